//! Every validation rule of a deployment request, with valid and invalid cases.

use crate::support::{event_bytes, manifest};
use personalize_deployer::domain::field::FieldError;
use personalize_deployer::domain::request::DeploymentRequest;
use serde_json::{Value, json};

const SV: &str = "arn:aws:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d";
const LATEST: &str = "arn:aws:personalize:us-east-1:111122223333:solution/movies/$LATEST";

fn base() -> Value {
    json!({"campaignName": "movie-recs", "solutionVersionArn": SV})
}

fn with(path: &[&str], value: Value) -> Value {
    let mut v = base();
    let mut cursor = &mut v;
    for (i, key) in path.iter().enumerate() {
        if i + 1 == path.len() {
            cursor[*key] = value.clone();
        } else {
            if cursor.get(*key).is_none() {
                cursor[*key] = json!({});
            }
            cursor = cursor.get_mut(*key).unwrap();
        }
    }
    v
}

fn errors(v: &Value) -> Vec<FieldError> {
    match DeploymentRequest::from_value(v) {
        Ok(_) => Vec::new(),
        Err(r) => r.errors,
    }
}

#[track_caller]
fn accepts(v: Value) -> DeploymentRequest {
    DeploymentRequest::from_value(&v)
        .unwrap_or_else(|r| panic!("expected {v} to be accepted, got: {r}"))
}

/// Asserts that exactly one error is reported, on `field`, mentioning `rule`.
#[track_caller]
fn rejects(v: Value, field: &str, rule: &str) {
    let errs = errors(&v);
    assert_eq!(errs.len(), 1, "expected one error for {v}, got {errs:?}");
    assert_eq!(errs[0].field, field, "{errs:?}");
    assert!(
        errs[0].rule.contains(rule),
        "rule {:?} does not mention {rule:?}",
        errs[0].rule
    );
}

#[test]
fn the_sample_manifests_are_valid() {
    let r = manifest("movie-recs.json");
    assert_eq!(r.campaign_name().as_str(), "movie-recs");
    assert_eq!(r.min_provisioned_tps(), Some(2));
    assert_eq!(r.tags().len(), 1);
    let config = r.campaign_config().unwrap();
    assert_eq!(
        config.item_exploration_config.as_ref().unwrap()["explorationWeight"],
        "0.3"
    );
    assert_eq!(
        config.ranking_influence.as_ref().unwrap()["POPULARITY"],
        0.2
    );
    // Valid by construction: its canonical form reads back the same.
    assert_eq!(
        DeploymentRequest::from_slice(r.canonical_json().as_bytes()),
        Ok(r)
    );
    let latest = manifest("news-feed-latest.json");
    assert!(latest.sync_with_latest());
}

#[test]
fn every_error_of_a_request_is_reported_together() {
    let errs = DeploymentRequest::from_slice(&event_bytes("manifests/invalid.json"))
        .unwrap_err()
        .errors;
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    for expected in [
        "region",
        "campaignName",
        "solutionVersionArn",
        "minProvisionedTPS",
        "campaignConfig.itemExplorationConfig.explorationWeight",
        "campaignConfig.rankingInfluence.NOVELTY",
        "campaignConfig.rankingInfluence.POPULARITY",
        "tags[0].tagKey",
        "tags[1].tagValue",
        "tags[2].tagKey",
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {fields:?}"
        );
    }
    assert_eq!(errs.len(), 10, "{errs:#?}");
}

#[test]
fn the_rejection_keeps_the_campaign_name_even_when_invalid() {
    let r = DeploymentRequest::from_slice(&event_bytes("manifests/invalid.json")).unwrap_err();
    assert_eq!(r.campaign_name.as_deref(), Some("-movie recs"));
}

#[test]
fn a_body_that_is_not_a_json_object_is_rejected() {
    let r = DeploymentRequest::from_slice(b"{\"campaignName\": ").unwrap_err();
    assert_eq!(r.errors[0].field, "(request)");
    assert!(r.errors[0].rule.contains("not valid JSON"));
    let r = DeploymentRequest::from_slice(b"[1, 2]").unwrap_err();
    assert!(
        r.errors[0]
            .rule
            .contains("must be a JSON object, not an array")
    );
    let r = DeploymentRequest::from_slice(b"").unwrap_err();
    assert_eq!(r.errors.len(), 1);
}

#[test]
fn unknown_fields_are_rejected_at_every_level() {
    rejects(
        with(&["solutionVersion"], json!("x")),
        "solutionVersion",
        "not a known field",
    );
    rejects(
        with(&["campaignConfig", "explorationWeight"], json!("0.3")),
        "campaignConfig.explorationWeight",
        "not a known field",
    );
    rejects(
        with(
            &["tags"],
            json!([{"tagKey": "a", "tagValue": "b", "key": "c"}]),
        ),
        "tags[0].key",
        "not a known field",
    );
    // Each names the fields it has, taken from the types themselves.
    rejects(
        with(&["campaignConfig", "explorationWeight"], json!("0.3")),
        "campaignConfig.explorationWeight",
        "allowed: itemExplorationConfig, enableMetadataWithRecommendations, \
         syncWithLatestSolutionVersion, rankingInfluence",
    );
    rejects(
        with(
            &["tags"],
            json!([{"tagKey": "a", "tagValue": "b", "key": "c"}]),
        ),
        "tags[0].key",
        "allowed: tagKey, tagValue",
    );
    let errs = errors(&with(
        &["gate"],
        json!({"metric": "coverage", "minValue": 0.1, "threshold": 3}),
    ));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].field, "gate.threshold");
    assert!(
        errs[0]
            .rule
            .ends_with("allowed: metric, maxDrop, maxRelativeDrop, minValue"),
        "{errs:?}"
    );
}

#[test]
fn required_fields_are_required() {
    let errs = errors(&json!({}));
    assert_eq!(
        errs,
        vec![
            FieldError::new("campaignName", "is required"),
            FieldError::new("solutionVersionArn", "is required"),
        ]
    );
    rejects(
        with(&["campaignName"], Value::Null),
        "campaignName",
        "is required",
    );
    rejects(
        with(&["tags"], json!([{"tagKey": "team"}])),
        "tags[0].tagValue",
        "is required",
    );
}

#[test]
fn wrong_json_types_name_the_field_and_the_expected_type() {
    rejects(
        with(&["campaignName"], json!(7)),
        "campaignName",
        "must be a string, not the number 7",
    );
    rejects(
        with(&["minProvisionedTPS"], json!("2")),
        "minProvisionedTPS",
        "must be a whole number",
    );
    rejects(
        with(&["minProvisionedTPS"], json!(2.5)),
        "minProvisionedTPS",
        "must be a whole number",
    );
    rejects(
        with(&["campaignConfig"], json!([])),
        "campaignConfig",
        "must be an object",
    );
    rejects(
        with(
            &["campaignConfig", "syncWithLatestSolutionVersion"],
            json!("true"),
        ),
        "campaignConfig.syncWithLatestSolutionVersion",
        "must be a boolean",
    );
    rejects(
        with(
            &["campaignConfig", "itemExplorationConfig"],
            json!({"explorationWeight": 0.3}),
        ),
        "campaignConfig.itemExplorationConfig",
        "values are strings",
    );
    rejects(
        with(&["tags"], json!({"team": "recs"})),
        "tags",
        "must be an array",
    );
    rejects(
        with(&["tags"], json!(["team"])),
        "tags[0]",
        "must be an object",
    );
}

#[test]
fn campaign_name_length_is_1_to_63() {
    accepts(with(&["campaignName"], json!("a")));
    accepts(with(&["campaignName"], json!("a".repeat(63))));
    rejects(
        with(&["campaignName"], json!("a".repeat(64))),
        "campaignName",
        "1 to 63 characters long (it has 64)",
    );
    rejects(
        with(&["campaignName"], json!("")),
        "campaignName",
        "1 to 63 characters long (it has 0)",
    );
}

#[test]
fn campaign_name_pattern_is_fully_anchored() {
    for ok in ["movie-recs", "A_b-9", "9lives", "x"] {
        accepts(with(&["campaignName"], json!(ok)));
    }
    // The model's pattern is only start-anchored; these pass it but are refused
    // here so that a fully anchoring service can never reject them.
    for bad in ["-movies", "_movies", "a.b", "a b", "a/b", "é", "movies\n"] {
        rejects(
            with(&["campaignName"], json!(bad)),
            "campaignName",
            "must start with a letter or digit",
        );
    }
}

#[test]
fn solution_version_arn_length_is_at_most_256() {
    let long_id = "a".repeat(256 - SV.len() + "1a2b3c4d".len());
    let arn = SV.replace("1a2b3c4d", &long_id);
    assert_eq!(arn.len(), 256);
    // 256 characters pass the length rule (the version id rule then refuses the
    // 63+ character id, which is another rule).
    let errs = errors(&with(&["solutionVersionArn"], json!(arn)));
    assert!(
        errs.iter().all(|e| !e.rule.contains("at most 256")),
        "{errs:?}"
    );
    rejects(
        with(&["solutionVersionArn"], json!(format!("{arn}a"))),
        "solutionVersionArn",
        "at most 256 characters long (it has 257)",
    );
}

#[test]
fn solution_version_arn_must_be_a_personalize_arn() {
    for bad in [
        "movies/1a2b3c4d",
        "xarn:aws:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d",
        "arn:aws:personalize:::",
        "arn:AWS:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d",
        "arn:aws:s3:us-east-1:111122223333:solution/movies/1a2b3c4d",
        "arn:aws:personalize:us-east-1\n:111122223333:solution/movies/1a2b3c4d",
        "arn:aws:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d\n",
        "arn:aws:personalize:us-east-1:111122223333:",
        // \d in the model's (Java) pattern is an ASCII digit.
        "arn:aws\u{663}:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d",
    ] {
        rejects(
            with(&["solutionVersionArn"], json!(bad)),
            "solutionVersionArn",
            "must be a Personalize ARN",
        );
    }
}

#[test]
fn solution_version_arn_must_name_a_solution_version() {
    rejects(
        with(
            &["solutionVersionArn"],
            json!("arn:aws:personalize:us-east-1:111122223333:solution/movies"),
        ),
        "solutionVersionArn",
        "this is a solution ARN: append /<versionId> or /$LATEST",
    );
    rejects(
        with(
            &["solutionVersionArn"],
            json!("arn:aws:personalize:us-east-1:111122223333:campaign/movie-recs"),
        ),
        "solutionVersionArn",
        "must be a solution version ARN",
    );
    rejects(
        with(
            &["solutionVersionArn"],
            json!("arn:aws:personalize:us-east-1:111122223333:solution/movies/1a2b/extra"),
        ),
        "solutionVersionArn",
        "must be a solution version ARN",
    );
    rejects(
        with(
            &["solutionVersionArn"],
            json!("arn:aws:personalize::111122223333:solution/movies/1a2b3c4d"),
        ),
        "solutionVersionArn",
        "region must be a region name",
    );
    rejects(
        with(
            &["solutionVersionArn"],
            json!("arn:aws:personalize:us-east-1:1111:solution/movies/1a2b3c4d"),
        ),
        "solutionVersionArn",
        "12-digit AWS account id",
    );
}

#[test]
fn the_campaign_arn_is_derived_from_the_name_and_the_solution_version() {
    let r = accepts(base());
    assert_eq!(
        r.campaign_arn(),
        "arn:aws:personalize:us-east-1:111122223333:campaign/movie-recs"
    );
    let cn = accepts(with(
        &["solutionVersionArn"],
        json!("arn:aws-cn:personalize:cn-north-1:444455556666:solution/s1/abcd1234"),
    ));
    assert_eq!(
        cn.campaign_arn(),
        "arn:aws-cn:personalize:cn-north-1:444455556666:campaign/movie-recs"
    );
}

#[test]
fn latest_requires_sync_and_sync_requires_latest() {
    let mut ok = with(&["solutionVersionArn"], json!(LATEST));
    ok["campaignConfig"] = json!({"syncWithLatestSolutionVersion": true});
    accepts(ok);
    accepts(with(
        &["campaignConfig", "syncWithLatestSolutionVersion"],
        json!(false),
    ));
    rejects(
        with(&["solutionVersionArn"], json!(LATEST)),
        "solutionVersionArn",
        "allowed only with campaignConfig.syncWithLatestSolutionVersion set to true",
    );
    let mut latest_sync_false = with(&["solutionVersionArn"], json!(LATEST));
    latest_sync_false["campaignConfig"] = json!({"syncWithLatestSolutionVersion": false});
    rejects(latest_sync_false, "solutionVersionArn", "allowed only with");
    rejects(
        with(
            &["campaignConfig", "syncWithLatestSolutionVersion"],
            json!(true),
        ),
        "campaignConfig.syncWithLatestSolutionVersion",
        "requires solutionVersionArn to be the solution ARN followed by /$LATEST",
    );
}

#[test]
fn min_provisioned_tps_is_at_least_1_and_fits_the_api_integer() {
    accepts(with(&["minProvisionedTPS"], json!(1)));
    accepts(with(&["minProvisionedTPS"], json!(i32::MAX)));
    for bad in [json!(0), json!(-3), json!(i64::from(i32::MAX) + 1)] {
        rejects(
            with(&["minProvisionedTPS"], bad),
            "minProvisionedTPS",
            "from 1 to 2147483647",
        );
    }
}

#[test]
fn item_exploration_config_holds_only_the_two_documented_parameters() {
    let cfg = |v: Value| with(&["campaignConfig", "itemExplorationConfig"], v);
    accepts(cfg(
        json!({"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}),
    ));
    // A misspelt key would deploy without the exploration asked for.
    rejects(
        cfg(json!({"explorationWeigth": "0.3"})),
        "campaignConfig.itemExplorationConfig.explorationWeigth",
        "is not an item exploration parameter; Personalize documents explorationWeight and \
         explorationItemAgeCutOff",
    );
    // The model's own limit still holds, and is told first.
    let many: serde_json::Map<_, _> = (0..101).map(|i| (format!("k{i}"), json!("v"))).collect();
    let errs = errors(&cfg(many.into()));
    assert_eq!(errs[0].field, "campaignConfig.itemExplorationConfig");
    assert!(
        errs[0].rule.contains("at most 100 entries (it has 101)"),
        "{errs:?}"
    );
}

#[test]
fn item_exploration_keys_and_values_have_length_limits() {
    let cfg =
        |k: String, v: String| with(&["campaignConfig", "itemExplorationConfig"], json!({k: v}));
    let errs = errors(&cfg("k".repeat(257), "v".into()));
    assert!(
        errs.iter().any(|e| e
            .rule
            .contains("keys must be at most 256 characters long (this one has 257)")),
        "{errs:?}"
    );
    rejects(
        cfg("explorationWeight".into(), "1".repeat(1001)),
        "campaignConfig.itemExplorationConfig.explorationWeight",
        "values must be at most 1000 characters long (this one has 1001)",
    );
}

#[test]
fn a_tps_above_the_stacks_cap_is_rejected_naming_the_cap() {
    use personalize_deployer::domain::request::Scope;
    let scope = Scope {
        max_provisioned_tps: Some(10),
        ..Scope::default()
    };
    let tps = |n: i64| with(&["minProvisionedTPS"], json!(n));
    assert!(DeploymentRequest::from_value_within(&tps(10), &scope).is_ok());
    // A request without a TPS keeps the campaign's (or gets the default).
    assert!(DeploymentRequest::from_value_within(&base(), &scope).is_ok());
    let errs = DeploymentRequest::from_value_within(&tps(11), &scope)
        .unwrap_err()
        .errors;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].field, "minProvisionedTPS");
    assert!(
        errs[0]
            .rule
            .contains("is 11, above this stack's cap of 10 (MaxProvisionedTPS)"),
        "{}",
        errs[0].rule
    );
    // Without a cap, only the model's range holds.
    accepts(tps(i64::from(i32::MAX)));
    // A TPS out of the model's range is told once, by the model's rule.
    let errs = DeploymentRequest::from_value_within(&tps(0), &scope)
        .unwrap_err()
        .errors;
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].rule.contains("from 1 to"), "{errs:?}");
}

#[test]
fn exploration_weight_is_a_number_from_0_to_1() {
    let cfg = |w: &str| {
        with(
            &["campaignConfig", "itemExplorationConfig"],
            json!({"explorationWeight": w}),
        )
    };
    for ok in ["0", "0.3", "1", "1.0", " 0.5 "] {
        accepts(cfg(ok));
    }
    for bad in ["1.5", "-0.1", "abc", "", "NaN", "inf"] {
        rejects(
            cfg(bad),
            "campaignConfig.itemExplorationConfig.explorationWeight",
            "from 0 to 1",
        );
    }
}

#[test]
fn exploration_item_age_cut_off_is_a_positive_number() {
    let cfg = |d: &str| {
        with(
            &["campaignConfig", "itemExplorationConfig"],
            json!({"explorationItemAgeCutOff": d}),
        )
    };
    for ok in ["30", "0.5", "365"] {
        accepts(cfg(ok));
    }
    for bad in ["0", "-1", "thirty", ""] {
        rejects(
            cfg(bad),
            "campaignConfig.itemExplorationConfig.explorationItemAgeCutOff",
            "positive number of days",
        );
    }
}

#[test]
fn ranking_influence_keys_and_weights() {
    accepts(with(
        &["campaignConfig", "rankingInfluence"],
        json!({"POPULARITY": 0, "FRESHNESS": 1}),
    ));
    accepts(with(
        &["campaignConfig", "rankingInfluence"],
        json!({"FRESHNESS": 0.5}),
    ));
    rejects(
        with(
            &["campaignConfig", "rankingInfluence"],
            json!({"POPULARITY": 1.5}),
        ),
        "campaignConfig.rankingInfluence.POPULARITY",
        "from 0 to 1 (got 1.5)",
    );
    rejects(
        with(
            &["campaignConfig", "rankingInfluence"],
            json!({"FRESHNESS": -0.1}),
        ),
        "campaignConfig.rankingInfluence.FRESHNESS",
        "from 0 to 1",
    );
    rejects(
        with(
            &["campaignConfig", "rankingInfluence"],
            json!({"popularity": 0.5}),
        ),
        "campaignConfig.rankingInfluence.popularity",
        "allowed: POPULARITY, FRESHNESS",
    );
}

fn tags(list: Vec<(String, String)>) -> Value {
    with(
        &["tags"],
        list.into_iter()
            .map(|(k, v)| json!({"tagKey": k, "tagValue": v}))
            .collect(),
    )
}

fn tag(k: &str, v: &str) -> Value {
    tags(vec![(k.to_string(), v.to_string())])
}

#[test]
fn at_most_50_tags() {
    let n = |n: usize| tags((0..n).map(|i| (format!("k{i}"), "v".to_string())).collect());
    accepts(n(0));
    accepts(n(50));
    rejects(n(51), "tags", "at most 50 tags (it has 51)");
}

#[test]
fn tag_key_and_value_lengths() {
    accepts(tag(&"k".repeat(128), &"v".repeat(256)));
    accepts(tag("team", ""));
    rejects(
        tag("", "v"),
        "tags[0].tagKey",
        "1 to 128 characters long (it has 0)",
    );
    rejects(
        tag(&"k".repeat(129), "v"),
        "tags[0].tagKey",
        "1 to 128 characters long (it has 129)",
    );
    rejects(
        tag("k", &"v".repeat(257)),
        "tags[0].tagValue",
        "at most 256 characters long (it has 257)",
    );
    // Lengths count characters, not bytes.
    accepts(tag(&"é".repeat(128), &"ü".repeat(256)));
}

#[test]
fn tag_characters_follow_the_model_class() {
    // Letters, separators and numbers by general category: a no-break space
    // (Zs), a line separator (Zl) and a Roman numeral (Nl) are allowed.
    for ok in [
        "équipe",
        "cost center",
        "a_b.c:d/e=f+g-h@i",
        "数据",
        "٣",
        "a\u{a0}b",
        "a\u{2028}b",
        "\u{216b}",
    ] {
        accepts(tag(ok, ok));
    }
    // A combining accent (Mn) and a circled letter (So) are alphabetic in
    // Unicode but not letters; a newline is white space but a control (Cc).
    for bad in ["e\u{301}", "\u{24b6}", "a\nb"] {
        rejects(
            tag("k", bad),
            "tags[0].tagValue",
            "may contain only letters",
        );
    }
    rejects(
        tag("a<b", "v"),
        "tags[0].tagKey",
        "may contain only letters",
    );
    rejects(
        tag("k", "a\tb"),
        "tags[0].tagValue",
        "may contain only letters",
    );
    rejects(
        tag("k", "100%"),
        "tags[0].tagValue",
        "may contain only letters",
    );
}

#[test]
fn tags_must_not_start_with_aws_prefix() {
    rejects(
        tag("aws:team", "v"),
        "tags[0].tagKey",
        "must not start with \"aws:\"",
    );
    rejects(
        tag("AWS:team", "v"),
        "tags[0].tagKey",
        "must not start with \"aws:\"",
    );
    rejects(
        tag("team", "Aws:recs"),
        "tags[0].tagValue",
        "must not start with \"aws:\"",
    );
    accepts(tag("awsome", "aws"));
}

#[test]
fn tag_keys_are_unique_and_case_sensitive() {
    rejects(
        tags(vec![
            ("team".into(), "a".into()),
            ("team".into(), "b".into()),
        ]),
        "tags[1].tagKey",
        "repeats the key \"team\" of tags[0]",
    );
    accepts(tags(vec![
        ("team".into(), "a".into()),
        ("Team".into(), "b".into()),
    ]));
}

#[test]
fn canonical_json_ignores_key_order_and_whitespace() {
    let a = DeploymentRequest::from_slice(
        br#"{"solutionVersionArn": "arn:aws:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d",
             "campaignName": "movie-recs",
             "campaignConfig": {"itemExplorationConfig": {"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}}}"#,
    )
    .unwrap();
    let b = DeploymentRequest::from_slice(
        br#"{"campaignName":"movie-recs","campaignConfig":{"itemExplorationConfig":{"explorationItemAgeCutOff":"30","explorationWeight":"0.3"}},"solutionVersionArn":"arn:aws:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d"}"#,
    )
    .unwrap();
    assert_eq!(a.canonical_json(), b.canonical_json());
    // And it round-trips through the strict serde form the tasks read.
    let back: DeploymentRequest = serde_json::from_str(&a.canonical_json()).unwrap();
    assert_eq!(back, a);
}

#[test]
fn a_manifest_with_a_byte_order_mark_is_read_as_the_json_after_it() {
    let json = br#"{"campaignName": "movie-recs", "solutionVersionArn": "arn:aws:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d"}"#;
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), json].concat();
    assert_eq!(
        DeploymentRequest::from_slice(&with_bom).unwrap(),
        DeploymentRequest::from_slice(json).unwrap()
    );
    // Only at the start: anywhere else it is not JSON.
    let inside = [b"{\xEF\xBB\xBF".as_slice(), &json[1..]].concat();
    let rejection = DeploymentRequest::from_slice(&inside).unwrap_err();
    assert!(
        rejection.errors[0].rule.contains("not valid JSON"),
        "{rejection}"
    );
}

#[test]
fn tag_errors_name_the_original_index_even_after_an_unreadable_tag() {
    let errs = errors(&with(
        &["tags"],
        json!([5, {"tagKey": "aws:x", "tagValue": "v"}, {"tagKey": "aws:x", "tagValue": "w"}]),
    ));
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "tags[0]",
            "tags[1].tagKey",
            "tags[2].tagKey",
            "tags[2].tagKey"
        ]
    );
    assert!(errs[3].rule.contains("of tags[1]"), "{:?}", errs[3]);
}

#[test]
fn huge_or_odd_keys_are_quoted_and_cut_in_field_paths() {
    let key = "k".repeat(5000);
    let errs = errors(&with(&[&key], json!(1)));
    assert!(errs[0].field.starts_with("[\"kkkk"), "{}", errs[0].field);
    assert!(errs[0].field.len() < 100, "{}", errs[0].field);
    let errs = errors(&with(
        &["campaignConfig", "rankingInfluence"],
        json!({"a b": 0.5}),
    ));
    assert_eq!(errs[0].field, "campaignConfig.rankingInfluence[\"a b\"]");
}

#[test]
fn a_watch_is_none_or_alarms_and_minutes_each_rule_named() {
    let r = accepts(with(
        &["watch"],
        json!({"alarms": ["recs-{campaign}-ctr"], "minutes": 45}),
    ));
    let watch = r.watch().unwrap();
    assert_eq!(watch.alarms, vec!["recs-movie-recs-ctr".to_string()]);
    assert_eq!(watch.minutes, 45);
    assert!(accepts(with(&["watch"], json!("none"))).watch().is_none());
    assert!(accepts(base()).watch().is_none(), "no stack watch here");
    let errs = errors(&with(
        &["watch"],
        json!({"alarms": ["", "x"], "minutes": 721, "period": 1}),
    ));
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec!["watch.period", "watch.alarms[0]", "watch.minutes"],
        "{errs:?}"
    );
    assert_eq!(errs[1].rule, "must not be empty");
    assert!(errs[2].rule.contains("from 1 to 720 minutes"), "{errs:?}");
}

#[test]
fn a_watch_on_a_latest_request_is_refused_a_rollback_could_not_hold() {
    let mut v = with(&["watch"], json!({"alarms": ["a"]}));
    v["solutionVersionArn"] = json!(LATEST);
    v["campaignConfig"] = json!({"syncWithLatestSolutionVersion": true});
    let errs = errors(&v);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].field, "watch");
    assert!(
        errs[0].rule.contains("cannot be used with a /$LATEST"),
        "{errs:?}"
    );
    // "none" is fine.
    v["watch"] = json!("none");
    accepts(v);
}

#[test]
fn the_stacks_watch_applies_to_a_request_that_names_none() {
    use personalize_deployer::domain::request::Scope;
    use personalize_deployer::domain::watch::WatchDefaults;
    let scope = Scope {
        watch: WatchDefaults {
            alarms: vec!["recs-{campaign}-5xx".into()],
            minutes: 90,
        },
        ..Scope::default()
    };
    let r = DeploymentRequest::from_value_within(&base(), &scope).unwrap();
    let watch = r.watch().unwrap();
    assert_eq!(
        (watch.alarms.clone(), watch.minutes),
        (vec!["recs-movie-recs-5xx".to_string()], 90)
    );
    // A request's own alarms without a period: the stack's period.
    let own = with(&["watch"], json!({"alarms": ["mine"]}));
    let r = DeploymentRequest::from_value_within(&own, &scope).unwrap();
    assert_eq!(r.watch().unwrap().minutes, 90);
    // "none" turns the stack's off; a $LATEST request gets none.
    let none = with(&["watch"], json!("none"));
    assert!(
        DeploymentRequest::from_value_within(&none, &scope)
            .unwrap()
            .watch()
            .is_none()
    );
    let mut latest = base();
    latest["solutionVersionArn"] = json!(LATEST);
    latest["campaignConfig"] = json!({"syncWithLatestSolutionVersion": true});
    assert!(
        DeploymentRequest::from_value_within(&latest, &scope)
            .unwrap()
            .watch()
            .is_none()
    );
    // The resolved watch is written into the state and read back as is.
    let r = DeploymentRequest::from_value_within(&base(), &scope).unwrap();
    let again = DeploymentRequest::from_value(&serde_json::to_value(&r).unwrap()).unwrap();
    assert_eq!(again, r);
}

#[test]
fn alarm_names_that_repeat_once_the_campaign_is_put_in_are_refused() {
    let errs = errors(&with(
        &["watch"],
        json!({"alarms": ["recs-{campaign}", "recs-movie-recs"]}),
    ));
    assert_eq!(
        errs,
        vec![FieldError::new(
            "watch.alarms[1]",
            "repeats \"recs-movie-recs\" once the campaign's name is put in"
        )]
    );
}
