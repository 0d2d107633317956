//! The `X-Signature` header: `sha256=<hex HMAC-SHA256(token, body)>`, the format Flux's
//! `generic-hmac` Receiver verifies, also sent as `X-Hub-Signature-256`; and the
//! HMAC-SHA256 the chat robots' signatures are made of ([`hmac_sha256`]).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "X-Signature";
/// The same signature under the name GitHub gives it, which receivers that verify
/// GitHub-style signatures read (Tekton Triggers' GitHub interceptor, for one).
pub const HUB_SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// The `X-Signature` value of `body` signed with `token`.
pub fn signature(token: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(token, body).finalize().into_bytes())
    )
}

/// Whether `header` is a valid `X-Signature` of `body` for `token` (compared in constant
/// time), as a receiver checks it.
pub fn verify(token: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_digest) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    mac(token, body).verify_slice(&expected).is_ok()
}

/// HMAC-SHA256 of `message` with `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    mac(key, message).finalize().into_bytes().into()
}

fn mac(key: impl AsRef<[u8]>, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_ref()).expect("HMAC takes any key");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_rfc_4231_vector() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verifies_only_the_right_token_and_body() {
        let header = signature("s3cret", b"{\"a\":1}");
        assert!(verify("s3cret", b"{\"a\":1}", &header));
        assert!(!verify("other", b"{\"a\":1}", &header));
        assert!(!verify("s3cret", b"{\"a\":2}", &header));
        assert!(!verify(
            "s3cret",
            b"{\"a\":1}",
            header.trim_start_matches("sha256=")
        ));
        assert!(!verify("s3cret", b"{\"a\":1}", "sha256=zz"));
    }
}
