//! UCloud API request signing.
//!
//! UCloud signs a request by sorting every parameter that goes on the wire (except
//! `Signature`) byte-wise by key, concatenating `key` and `value` without separators,
//! appending the private key and taking the lowercase hex SHA-1 of the result. This is
//! plain SHA-1, not an HMAC, exactly as the official SDKs compute it.

use sha1::{Digest, Sha1};

/// Computes the `Signature` parameter for `params` signed with `private_key`.
///
/// `params` are the exact strings that go on the wire; a `Signature` entry, if present,
/// is skipped. Keys are sorted byte-wise, so `CPU` sorts before `ChargeType` and
/// `Backends.10` before `Backends.2`.
pub fn sign<K, V>(params: &[(K, V)], private_key: &str) -> String
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, _)| *k != "Signature")
        .collect();
    sorted.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut hasher = Sha1::new();
    for (k, v) in sorted {
        hasher.update(k.as_bytes());
        hasher.update(v.as_bytes());
    }
    hasher.update(private_key.as_bytes());
    hex::encode(hasher.finalize())
}

/// Constant-time comparison of a received signature with the expected one.
pub fn signatures_match(expected: &str, received: &str) -> bool {
    let (a, b) = (expected.as_bytes(), received.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC_KEY: &str = "ucloudsomeone@example.com1296235120854146120";
    const PRIVATE_KEY: &str = "46f09bb9fab4f12dfc160dae12273d5332b5debe";

    fn with_key(mut params: Vec<(String, String)>) -> Vec<(String, String)> {
        params.push(("PublicKey".into(), PUBLIC_KEY.into()));
        params
    }

    fn create_uhost_params() -> Vec<(String, String)> {
        [
            ("Action", "CreateUHostInstance"),
            ("CPU", "2"),
            ("ChargeType", "Month"),
            ("DiskSpace", "10"),
            ("ImageId", "f43736e1-65a5-4bea-ad2e-8a46e18883c2"),
            ("LoginMode", "Password"),
            ("Memory", "2048"),
            ("Name", "Host01"),
            ("Password", "VUNsb3VkLmNu"),
            ("Quantity", "1"),
            ("Region", "cn-bj2"),
            ("Zone", "cn-bj2-04"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn create_uhost_vector() {
        let params = with_key(create_uhost_params());
        assert_eq!(
            sign(&params, PRIVATE_KEY),
            "4f9ef5df2abab2c6fccd1e9515cb7e2df8c6bb65"
        );
    }

    #[test]
    fn security_token_vector() {
        let mut params = with_key(create_uhost_params());
        params.push(("SecurityToken".into(), "some_stoken".into()));
        assert_eq!(
            sign(&params, PRIVATE_KEY),
            "170c480ad176a247b324eb92a2cfe536aacfbd04"
        );
    }

    #[test]
    fn array_parameters_sort_bytewise() {
        let values = ["foo", "bar", "42"];
        let mut params = vec![("Action".to_string(), "AllocateBackendBatch".to_string())];
        for i in 0..12 {
            params.push((format!("Backends.{i}"), values[i % 3].to_string()));
        }
        let params = with_key(params);
        assert_eq!(
            sign(&params, PRIVATE_KEY),
            "6bc32642779f8cb0bb3d3f128b1c0688abf9a1a3"
        );
    }

    #[test]
    fn describe_uhost_vector_and_signature_is_excluded() {
        let mut params = with_key(vec![
            ("Action".into(), "DescribeUHostInstance".into()),
            ("Region".into(), "cn-bj2".into()),
            ("Limit".into(), "10".into()),
        ]);
        let expected = "cba5cf5ec4d4233d206b1b54951e3787350a642f";
        assert_eq!(sign(&params, PRIVATE_KEY), expected);
        params.push(("Signature".into(), "ignored".into()));
        assert_eq!(sign(&params, PRIVATE_KEY), expected);
    }

    #[test]
    fn comparison() {
        assert!(signatures_match("abc", "abc"));
        assert!(!signatures_match("abc", "abd"));
        assert!(!signatures_match("abc", "ab"));
    }
}
