//! Tests of [`super::SemverRange`] and [`super::parse_tag_version`].

use super::*;

fn v(text: &str) -> Version {
    Version::parse(text).unwrap()
}

/// Asserts which of `versions` the range admits.
fn check(range: &str, admitted: &[&str], rejected: &[&str]) {
    let parsed = SemverRange::parse(range).unwrap_or_else(|e| panic!("{e}"));
    for text in admitted {
        assert!(parsed.matches(&v(text)), "{range:?} should admit {text}");
    }
    for text in rejected {
        assert!(!parsed.matches(&v(text)), "{range:?} should reject {text}");
    }
}

#[test]
fn space_and_comma_separated_comparators_all_hold() {
    for range in [
        ">=1.2 <2",
        ">=1.2, <2",
        ">=1.2,<2",
        ">= 1.2 < 2",
        " >=1.2 ,, <2 ",
    ] {
        check(
            range,
            &["1.2.0", "1.9.9"],
            &["1.1.9", "2.0.0", "2.0.0-rc.1"],
        );
    }
}

#[test]
fn caret_tilde_and_wildcards() {
    check("^1.2", &["1.2.0", "1.99.0"], &["1.1.0", "2.0.0"]);
    check("^0.2.3", &["0.2.3", "0.2.9"], &["0.3.0", "0.2.2"]);
    check("~1.2.3", &["1.2.3", "1.2.9"], &["1.3.0", "1.2.2"]);
    check("1.x", &["1.0.0", "1.9.0"], &["2.0.0", "0.9.0"]);
    check("1.2.*", &["1.2.0", "1.2.7"], &["1.3.0"]);
    check("1.X", &["1.5.0"], &["2.0.0"]);
    for any in ["*", "x", "X", "=*"] {
        check(any, &["0.0.1", "99.0.0"], &["1.0.0-rc.1"]);
    }
}

#[test]
fn a_bare_version_is_exact_as_in_masterminds() {
    check("1.2.3", &["1.2.3"], &["1.2.4", "1.3.0"]);
    check("1.2", &["1.2.0", "1.2.9"], &["1.3.0"]);
    check("v1.2.3", &["1.2.3"], &["1.2.4"]);
}

#[test]
fn leading_v_is_accepted_after_an_operator() {
    check(">=v1.2 <V2", &["1.5.0"], &["2.0.0", "1.1.0"]);
    check(">= v1.2", &["1.2.0"], &["1.1.0"]);
}

#[test]
fn alternatives_any_of_which_may_hold() {
    check(
        "^1.2 || >=3",
        &["1.2.0", "3.0.0", "4.1.0"],
        &["2.0.0", "1.1.0"],
    );
    check("1.0.0 || 2.0.0 || 3.0.0", &["2.0.0"], &["2.0.1"]);
}

#[test]
fn hyphen_ranges() {
    check("1.2 - 1.4.5", &["1.2.0", "1.4.5"], &["1.4.6", "1.1.9"]);
    check("1.2.3 - 2", &["1.2.3", "2.9.0"], &["3.0.0"]);
    check("1 - 2 || 5", &["1.0.0", "5.0.0"], &["3.0.0"]);
}

#[test]
fn pre_releases_only_when_the_alternative_asks() {
    check(">=1.0.0", &["1.0.0"], &["1.1.0-rc.1", "2.0.0-alpha"]);
    // Any pre-release in the range, not only those of the same major.minor.patch.
    check(
        ">=1.0.0-0",
        &["1.0.0-rc.1", "1.3.0-beta", "2.0.0", "1.0.0"],
        &["0.9.0-rc.1", "0.9.0"],
    );
    check(">=1.0.0-0 <2", &["1.9.0-rc.1"], &["2.0.0-rc.1", "2.0.0"]);
    check("=1.2.3-rc.1", &["1.2.3-rc.1"], &["1.2.3-rc.2", "1.2.3"]);
    // The alternative without a pre-release does not admit them.
    check(
        ">=2 || =1.0.0-rc.1",
        &["1.0.0-rc.1", "2.1.0"],
        &["2.1.0-rc.1"],
    );
}

#[test]
fn wildcard_with_pre_release_reads_wildcards_as_zero() {
    check(
        "^1.x-0",
        &["1.0.0-rc.1", "1.4.0-beta.2", "1.4.0"],
        &["2.0.0-rc.1", "0.9.0"],
    );
    check("~1.2.x-0", &["1.2.0-rc.1", "1.2.5"], &["1.3.0-rc.1"]);
    check(">=2.x-rc", &["2.0.0-rc", "3.0.0-alpha"], &["1.9.0"]);
}

#[test]
fn errors_name_the_range_and_the_problem() {
    let cases = [
        ("", "the range is empty"),
        ("   ", "the range is empty"),
        (">=1 ||", "an alternative between `||` is empty"),
        ("|| 1", "an alternative between `||` is empty"),
        ("!=1.2.3", "the operator in \"!=1.2.3\" is not supported"),
        ("~>1.2", "the operator in \"~>1.2\" is not supported"),
        (">=", "the operator \">=\" is not followed by a version"),
        ("1.2 -", "the hyphen range \"1.2\" - has no upper bound"),
        (">=1.2 <foo", "in \"<foo\""),
        ("1.x-0", "needs ^, ~ or >= before it"),
        ("<1.x-0", "needs ^, ~ or >= before it"),
        ("latest", "unexpected character 'l'"),
        ("1.2.3.4", "in \"=1.2.3.4\""),
        ("1.2.3 - foo", "in \"<=foo\""),
    ];
    for (range, expected) in cases {
        let err = SemverRange::parse(range).unwrap_err();
        assert_eq!(err.range, range);
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("invalid semver range {range:?}: ")),
            "{message}"
        );
        assert!(message.contains(expected), "{range:?}: {message}");
    }
}

#[test]
fn tag_versions_are_strict_semver_with_an_optional_v() {
    assert_eq!(parse_tag_version("1.2.3"), Some(v("1.2.3")));
    assert_eq!(
        parse_tag_version("v1.2.3-rc.1+b5"),
        Some(v("1.2.3-rc.1+b5"))
    );
    for not_a_version in [
        "1.2", "vv1.2.3", "V1.2.3", "latest", "", "1.2.3 ", "v", "01.2.3",
    ] {
        assert_eq!(parse_tag_version(not_a_version), None, "{not_a_version:?}");
    }
}
