//! The metric gate: whether a newly trained solution version is good enough
//! to replace the one a campaign serves, judged on one offline metric as
//! GetSolutionMetrics reports it (higher is better for every documented
//! metric, API reference §10.1).
//!
//! A gate is written in three places: a request's `gate` member (JSON), a
//! followed campaign's tags, and the stack's default (environment
//! variables). Each [`GateMember`] knows its name in all three; reading a
//! gate from any of them and checking its rules happen here, so that an
//! error names the member where it was written.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::field::{Reader, join};
use crate::listed::listed;

/// The thresholds on one metric. Every threshold given must hold. Written
/// (a request's `gate`) and read by its members' names ([`GateMember`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// A metric name as GetSolutionMetrics reports it.
    pub metric: String,
    /// The largest allowed drop against the served version, in the metric's
    /// units (0.02: from 0.30 to 0.28 passes, to 0.279 does not).
    pub max_drop: Option<f64>,
    /// The largest allowed drop as a fraction of the served version's value
    /// (0.05: 5 %).
    pub max_relative_drop: Option<f64>,
    /// The lowest allowed value.
    pub min_value: Option<f64>,
}

/// As a request's `gate`: each member under its field name, in the order of
/// [`GateMember::ALL`], a threshold not given left out.
impl Serialize for Gate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut gate = self.clone();
        let mut map = serializer.serialize_map(None)?;
        for member in GateMember::ALL {
            let field = member.names().field;
            match gate.threshold(*member) {
                None => map.serialize_entry(field, &self.metric)?,
                Some(Some(value)) => map.serialize_entry(field, value)?,
                Some(None) => {}
            }
        }
        map.end()
    }
}

listed! {
/// A member of a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateMember {
    Metric,
    MaxDrop,
    MaxRelativeDrop,
    MinValue,
}
}

/// A gate member's name where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberNames {
    /// In a request's `gate` object.
    pub field: &'static str,
    /// The tag of a followed campaign.
    pub tag: &'static str,
    /// The environment variable of the stack's default gate.
    pub variable: &'static str,
}

impl GateMember {
    /// Its names: the one definition of each.
    pub fn names(self) -> MemberNames {
        let (field, tag, variable) = match self {
            GateMember::Metric => (
                "metric",
                "personalize-deployer:gate-metric",
                "DEFAULT_GATE_METRIC",
            ),
            GateMember::MaxDrop => (
                "maxDrop",
                "personalize-deployer:gate-max-drop",
                "DEFAULT_GATE_MAX_DROP",
            ),
            GateMember::MaxRelativeDrop => (
                "maxRelativeDrop",
                "personalize-deployer:gate-max-relative-drop",
                "DEFAULT_GATE_MAX_RELATIVE_DROP",
            ),
            GateMember::MinValue => (
                "minValue",
                "personalize-deployer:gate-min-value",
                "DEFAULT_GATE_MIN_VALUE",
            ),
        };
        MemberNames {
            field,
            tag,
            variable,
        }
    }
}

/// A gate as written: thresholds, or the word [`NO_GATE`] to deploy without
/// the stack's default gate.
#[derive(Debug, Clone, PartialEq)]
pub enum GateChoice {
    Off,
    Given(Gate),
}

impl GateChoice {
    /// The gate it sets (none when it turns the gate off).
    pub fn into_gate(self) -> Option<Gate> {
        match self {
            GateChoice::Off => None,
            GateChoice::Given(gate) => Some(gate),
        }
    }
}

/// The word that turns the stack's default gate off (a request's `gate`, a
/// campaign's metric tag).
pub const NO_GATE: &str = "none";

/// A rule a gate breaks: the member it is about (none for the gate as a
/// whole, which a source without a place for that names by its metric), and
/// the rule.
#[derive(Debug, Clone, PartialEq)]
pub struct GateError {
    pub member: Option<GateMember>,
    pub rule: String,
}

impl GateError {
    fn new(member: Option<GateMember>, rule: impl Into<String>) -> GateError {
        GateError {
            member,
            rule: rule.into(),
        }
    }

    /// The member, for a source that names the gate by its members only.
    pub fn member_or_metric(&self) -> GateMember {
        self.member.unwrap_or(GateMember::Metric)
    }
}

/// GetSolutionMetrics' `MetricName`: at most 256 characters.
pub const METRIC_NAME_MAX: usize = 256;

impl Gate {
    /// The threshold a member sets (none for the metric, which is not one).
    fn threshold(&mut self, member: GateMember) -> Option<&mut Option<f64>> {
        match member {
            GateMember::Metric => None,
            GateMember::MaxDrop => Some(&mut self.max_drop),
            GateMember::MaxRelativeDrop => Some(&mut self.max_relative_drop),
            GateMember::MinValue => Some(&mut self.min_value),
        }
    }

    /// Every rule the gate breaks (empty when it is valid): it names a
    /// metric and at least one threshold; a drop is not negative, a
    /// relative drop is a fraction from 0 to 1.
    pub fn check(&self) -> Vec<GateError> {
        let mut out = Vec::new();
        let n = self.metric.chars().count();
        if self.metric.trim().is_empty() || n > METRIC_NAME_MAX {
            out.push(GateError::new(
                Some(GateMember::Metric),
                format!(
                    "must be 1 to {METRIC_NAME_MAX} characters long (it has {n}): a metric name as \
                     GetSolutionMetrics reports it, e.g. normalized_discounted_cumulative_gain_at_10"
                ),
            ));
        }
        if self.max_drop.is_none() && self.max_relative_drop.is_none() && self.min_value.is_none() {
            out.push(GateError::new(
                None,
                "must give at least one threshold: maxDrop, maxRelativeDrop or minValue",
            ));
        }
        if let Some(v) = self.max_drop
            && !(v.is_finite() && v >= 0.0)
        {
            out.push(GateError::new(
                Some(GateMember::MaxDrop),
                format!("must be a number of 0 or more (the largest allowed drop), got {v}"),
            ));
        }
        if let Some(v) = self.max_relative_drop
            && !(v.is_finite() && (0.0..=1.0).contains(&v))
        {
            out.push(GateError::new(
                Some(GateMember::MaxRelativeDrop),
                format!("must be a fraction from 0 to 1 (0.05 allows a 5 % drop), got {v}"),
            ));
        }
        if let Some(v) = self.min_value
            && !v.is_finite()
        {
            out.push(GateError::new(
                Some(GateMember::MinValue),
                format!("must be a finite number, got {v}"),
            ));
        }
        out
    }

    /// A gate written as text, member by member: `value` gives what is
    /// written for each (a campaign's tags, the stack's variables; none when
    /// it is not). None when nothing is written; `Off` when the metric is
    /// [`NO_GATE`] and `off_allowed`. A number that does not read and every
    /// rule the gate breaks are errors; what reads is still checked, so
    /// that every error is told at once.
    pub fn from_text(
        value: impl Fn(GateMember) -> Option<String>,
        off_allowed: bool,
    ) -> Result<Option<GateChoice>, Vec<GateError>> {
        let metric = value(GateMember::Metric);
        if off_allowed && metric.as_deref() == Some(NO_GATE) {
            return Ok(Some(GateChoice::Off));
        }
        let mut errors = Vec::new();
        let mut gate = Gate {
            metric: metric.clone().unwrap_or_default(),
            max_drop: None,
            max_relative_drop: None,
            min_value: None,
        };
        let mut any_threshold = false;
        for member in GateMember::ALL {
            let Some(slot) = gate.threshold(*member) else {
                continue;
            };
            let Some(raw) = value(*member) else { continue };
            match raw.parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    *slot = Some(v);
                    any_threshold = true;
                }
                _ => errors.push(GateError::new(
                    Some(*member),
                    format!("must be a number, got {raw:?}"),
                )),
            }
        }
        if metric.is_none() {
            if any_threshold {
                errors.push(GateError::new(
                    Some(GateMember::Metric),
                    "is required when a gate threshold is set",
                ));
                return Err(errors);
            }
            return Ok(None);
        }
        errors.extend(gate.check());
        if errors.is_empty() {
            Ok(Some(GateChoice::Given(gate)))
        } else {
            Err(errors)
        }
    }

    /// Reads a request's `gate` member at `path` (an object of thresholds or
    /// the word [`NO_GATE`]), reporting what cannot be read to `reader`.
    /// The rules are checked apart ([`Self::check`]), on a gate read whole.
    pub(crate) fn read_json(reader: &mut Reader, path: &str, value: &Value) -> Option<GateChoice> {
        if value.as_str() == Some(NO_GATE) {
            return Some(GateChoice::Off);
        }
        let fields: Vec<&str> = GateMember::ALL.iter().map(|m| m.names().field).collect();
        let Some(obj) = value.as_object() else {
            let members: Vec<String> = fields.iter().map(|f| format!("\"{f}\"")).collect();
            reader.wrong_type(
                path,
                &format!(
                    "an object {{{}}} or the string \"{NO_GATE}\"",
                    members.join(", ")
                ),
                value,
            );
            return None;
        };
        reader.unknown_fields(path, obj, &fields);
        let before = reader.errors.len();
        let metric_field = GateMember::Metric.names().field;
        let metric = reader.required::<String>(path, obj, metric_field, "a string");
        let mut gate = Gate {
            metric: metric.unwrap_or_default(),
            max_drop: None,
            max_relative_drop: None,
            min_value: None,
        };
        for member in GateMember::ALL {
            let Some(slot) = gate.threshold(*member) else {
                continue;
            };
            *slot = reader.optional::<f64>(path, obj, member.names().field, "a number");
        }
        // A member that could not be read is reported as such, and the rules
        // are checked only on a gate read whole.
        (reader.errors.len() == before).then_some(GateChoice::Given(gate))
    }

    /// The path of a gate error in a request whose gate is at `path`.
    pub fn json_path(path: &str, error: &GateError) -> String {
        match error.member {
            Some(member) => join(path, member.names().field),
            None => path.to_string(),
        }
    }
}

/// The gate's verdict as notified (the `gate` of a notification's detail):
/// the metric, both values, the thresholds, and why it failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateReport {
    pub metric: String,
    /// The candidate version's value (none when it does not report the
    /// metric).
    pub candidate: Option<f64>,
    /// The served version's value (none for a new campaign, or when it does
    /// not report the metric).
    pub current: Option<f64>,
    pub max_drop: Option<f64>,
    pub max_relative_drop: Option<f64>,
    pub min_value: Option<f64>,
    pub passed: bool,
    /// Why it failed (none when it passed).
    pub reason: Option<String>,
}

impl GateReport {
    /// The report of a judgement.
    pub fn of(gate: &Gate, judged: &Result<Verdict, MissingMetric>) -> GateReport {
        let (candidate, current, reason) = match judged {
            Ok(v) => (
                Some(v.candidate),
                v.current,
                (!v.passed()).then(|| v.failures.join("; ")),
            ),
            Err(missing) => (missing.candidate, None, Some(missing.to_string())),
        };
        GateReport {
            metric: gate.metric.clone(),
            candidate,
            current,
            max_drop: gate.max_drop,
            max_relative_drop: gate.max_relative_drop,
            min_value: gate.min_value,
            passed: reason.is_none(),
            reason,
        }
    }

    /// One line for people: the metric, both values and the verdict.
    pub fn summary(&self) -> String {
        let verdict = match &self.reason {
            None => "passed".to_string(),
            Some(reason) => format!("FAILED, {reason}"),
        };
        match (self.candidate, self.current) {
            (Some(candidate), Some(current)) => format!(
                "{} new {candidate} (served {current}): {verdict}",
                self.metric
            ),
            (Some(candidate), None) if self.passed => format!(
                "{} new {candidate} (nothing served yet): {verdict}",
                self.metric
            ),
            (Some(candidate), None) => format!("{} new {candidate}: {verdict}", self.metric),
            (None, _) => format!("{}: {verdict}", self.metric),
        }
    }
}

/// What the gate found: both values, and every threshold that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub metric: String,
    pub candidate: f64,
    /// The served version's value; none for a new campaign.
    pub current: Option<f64>,
    /// Why it failed (empty when it passed).
    pub failures: Vec<String>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A metric that one of the versions does not report: the gate cannot judge,
/// and that is a failure naming the metrics that exist.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingMetric {
    pub metric: String,
    /// `candidate` or `current`.
    pub version: &'static str,
    pub available: Vec<String>,
    /// The candidate's value, when it is the current version that lacks it.
    pub candidate: Option<f64>,
}

impl std::fmt::Display for MissingMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the {} version reports no metric {:?}; it reports: {}",
            self.version,
            self.metric,
            if self.available.is_empty() {
                "none".to_string()
            } else {
                self.available.join(", ")
            }
        )
    }
}

/// Judges a candidate version's metrics against the served version's (none
/// for a new campaign, which is held to the minimum only).
pub fn judge(
    gate: &Gate,
    candidate: &BTreeMap<String, f64>,
    current: Option<&BTreeMap<String, f64>>,
) -> Result<Verdict, MissingMetric> {
    let value = |metrics: &BTreeMap<String, f64>, version| {
        metrics
            .get(&gate.metric)
            .copied()
            .ok_or_else(|| MissingMetric {
                metric: gate.metric.clone(),
                version,
                available: metrics.keys().cloned().collect(),
                candidate: None,
            })
    };
    let candidate = value(candidate, "candidate")?;
    let current = current
        .map(|m| value(m, "current"))
        .transpose()
        .map_err(|missing| MissingMetric {
            candidate: Some(candidate),
            ..missing
        })?;
    let mut failures = Vec::new();
    if let Some(min) = gate.min_value
        && candidate < min
    {
        failures.push(format!("{candidate} is below the minimum {min}"));
    }
    if let Some(current) = current {
        let drop = current - candidate;
        if let Some(max) = gate.max_drop
            && drop > max + f64::EPSILON
        {
            failures.push(format!(
                "it dropped by {} from {current}, more than the allowed {max}",
                round(drop)
            ));
        }
        if let Some(max) = gate.max_relative_drop
            && current > 0.0
            && drop / current > max + f64::EPSILON
        {
            failures.push(format!(
                "it dropped by {} % from {current}, more than the allowed {} %",
                round(drop / current * 100.0),
                round(max * 100.0)
            ));
        }
    }
    Ok(Verdict {
        metric: gate.metric.clone(),
        candidate,
        current,
        failures,
    })
}

/// Six significant decimals, for messages.
fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    const NDCG: &str = "normalized_discounted_cumulative_gain_at_10";

    fn metrics(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn gate() -> Gate {
        Gate {
            metric: NDCG.into(),
            max_drop: None,
            max_relative_drop: None,
            min_value: None,
        }
    }

    #[test]
    fn an_absolute_drop_within_the_allowance_passes_and_beyond_it_fails() {
        let g = Gate {
            max_drop: Some(0.02),
            ..gate()
        };
        let served = metrics(&[(NDCG, 0.30)]);
        let v = judge(&g, &metrics(&[(NDCG, 0.28)]), Some(&served)).unwrap();
        assert!(v.passed(), "{v:?}");
        assert_eq!((v.candidate, v.current), (0.28, Some(0.30)));
        let v = judge(&g, &metrics(&[(NDCG, 0.279)]), Some(&served)).unwrap();
        assert_eq!(
            v.failures,
            vec!["it dropped by 0.021 from 0.3, more than the allowed 0.02"]
        );
        // A better model always passes a drop threshold.
        assert!(
            judge(&g, &metrics(&[(NDCG, 0.35)]), Some(&served))
                .unwrap()
                .passed()
        );
    }

    #[test]
    fn a_relative_drop_and_a_minimum_are_checked_too_and_every_failure_named() {
        let g = Gate {
            max_relative_drop: Some(0.05),
            min_value: Some(0.25),
            ..gate()
        };
        let served = metrics(&[(NDCG, 0.30)]);
        assert!(
            judge(&g, &metrics(&[(NDCG, 0.286)]), Some(&served))
                .unwrap()
                .passed()
        );
        let v = judge(&g, &metrics(&[(NDCG, 0.24)]), Some(&served)).unwrap();
        assert_eq!(
            v.failures,
            vec![
                "0.24 is below the minimum 0.25",
                "it dropped by 20 % from 0.3, more than the allowed 5 %",
            ]
        );
    }

    #[test]
    fn a_new_campaign_is_held_to_the_minimum_only() {
        let g = Gate {
            max_drop: Some(0.0),
            min_value: Some(0.2),
            ..gate()
        };
        let v = judge(&g, &metrics(&[(NDCG, 0.21)]), None).unwrap();
        assert!(v.passed() && v.current.is_none());
        assert!(!judge(&g, &metrics(&[(NDCG, 0.19)]), None).unwrap().passed());
    }

    #[test]
    fn a_metric_either_version_lacks_is_a_failure_naming_those_that_exist() {
        let g = gate();
        let e = judge(
            &g,
            &metrics(&[("coverage", 0.5), ("precision_at_5", 0.1)]),
            None,
        )
        .unwrap_err();
        assert_eq!(e.version, "candidate");
        assert_eq!(
            e.to_string(),
            format!(
                "the candidate version reports no metric {NDCG:?}; it reports: coverage, precision_at_5"
            )
        );
        let e = judge(&g, &metrics(&[(NDCG, 0.3)]), Some(&metrics(&[]))).unwrap_err();
        assert_eq!(e.version, "current");
        assert!(e.to_string().ends_with("it reports: none"));
    }
}
