//! Personalize names and ARNs, and Step Functions ARNs: a campaign's name, the
//! solution version ARN of a request and the campaign ARN derived from them;
//! the ARN of a state machine's execution.

use std::fmt;

use serde::{Serialize, Serializer};

/// The version part of a solution version ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRef {
    /// An explicit solution version id (`.../solution/<name>/<id>`).
    Id(String),
    /// `.../solution/<name>/$LATEST`: the latest solution version of the solution.
    Latest,
}

/// A parsed `arn:<partition>:personalize:<region>:<account>:solution/<name>/<version>`:
/// only [`Self::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolutionVersionRef {
    arn: String,
    partition: String,
    region: String,
    account: String,
    solution_name: String,
    version: VersionRef,
}

pub const LATEST: &str = "$LATEST";

const EXPECTED: &str = "must be a solution version ARN \
    (arn:<partition>:personalize:<region>:<account>:solution/<solutionName>/<versionId>) \
    or a solution ARN followed by /$LATEST";

impl SolutionVersionRef {
    /// Parses a solution version ARN; the error is the rule it breaks.
    pub fn parse(arn: &str) -> Result<Self, String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts[..] else {
            return Err(EXPECTED.to_string());
        };
        if prefix != "arn" || service != "personalize" || !is_partition(partition) {
            return Err(EXPECTED.to_string());
        }
        if !is_region(region) {
            return Err(format!(
                "{EXPECTED}; its region must be a region name such as us-east-1, not {:?}",
                region
            ));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{EXPECTED}; its account must be a 12-digit AWS account id, not {:?}",
                account
            ));
        }
        let segments: Vec<&str> = resource.split('/').collect();
        match segments[..] {
            ["solution", name, version] if is_name(name) && is_version_id(version) => {
                Ok(SolutionVersionRef {
                    arn: arn.to_string(),
                    partition: partition.to_string(),
                    region: region.to_string(),
                    account: account.to_string(),
                    solution_name: name.to_string(),
                    version: if version == LATEST {
                        VersionRef::Latest
                    } else {
                        VersionRef::Id(version.to_string())
                    },
                })
            }
            ["solution", name] if is_name(name) => Err(format!(
                "{EXPECTED}; this is a solution ARN: append /<versionId> or /$LATEST"
            )),
            _ => Err(EXPECTED.to_string()),
        }
    }

    /// The ARN as written.
    pub fn as_str(&self) -> &str {
        &self.arn
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// Whether this is the solution's `$LATEST` pseudo-version.
    pub fn is_latest(&self) -> bool {
        matches!(self.version, VersionRef::Latest)
    }

    /// `arn:<partition>:personalize:<region>:<account>:solution/<name>`.
    pub fn solution_arn(&self) -> String {
        format!(
            "arn:{}:personalize:{}:{}:solution/{}",
            self.partition, self.region, self.account, self.solution_name
        )
    }

    /// The ARN of the campaign called `name` in this version's partition, region
    /// and account.
    pub fn campaign_arn(&self, name: &CampaignName) -> String {
        format!(
            "arn:{}:personalize:{}:{}:campaign/{}",
            self.partition, self.region, self.account, name
        )
    }

    /// Whether `arn` is a version of the same solution (any version id).
    pub fn is_version_of_same_solution(&self, arn: &str) -> bool {
        arn.strip_prefix(&self.solution_arn())
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
    }
}

impl fmt::Display for SolutionVersionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

impl Serialize for SolutionVersionRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.arn)
    }
}

/// A campaign's name that keeps Personalize's `Name` rule (1 to 63
/// letters, digits, `-` and `_`, starting with a letter or digit): only
/// [`Self::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CampaignName(String);

/// The longest name of a Personalize resource.
pub const NAME_MAX: usize = 63;

impl CampaignName {
    /// A name, or the rule it breaks.
    pub fn parse(name: &str) -> Result<CampaignName, String> {
        let n = name.chars().count();
        if n == 0 || n > NAME_MAX {
            Err(format!(
                "must be 1 to {NAME_MAX} characters long (it has {n})"
            ))
        } else if !is_name(name) {
            Err(format!(
                "must start with a letter or digit and contain only letters, digits, '-' and '_' \
                 (pattern ^[a-zA-Z0-9][a-zA-Z0-9\\-_]*$); got {}",
                super::field::quote(name)
            ))
        } else {
            Ok(CampaignName(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CampaignName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for CampaignName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Checks a Step Functions state machine ARN:
/// `arn:<partition>:states:<region>:<account>:stateMachine:<name>`, optionally
/// qualified by a version or an alias (`...:<name>:<qualifier>`), which
/// StartExecution accepts too.
pub fn check_state_machine_arn(arn: &str) -> Result<(), String> {
    let expected = "must be a state machine ARN \
        (arn:<partition>:states:<region>:<account>:stateMachine:<name>[:<version or alias>])";
    let parts: Vec<&str> = arn.split(':').collect();
    let (head, qualifier) = match parts.len() {
        7 => (&parts[..], None),
        8 => (&parts[..7], Some(parts[7])),
        _ => return Err(expected.to_string()),
    };
    let ok = match head {
        [
            "arn",
            partition,
            "states",
            region,
            account,
            "stateMachine",
            name,
        ] => {
            is_partition(partition)
                && is_region(region)
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && !name.is_empty()
                && name.len() <= 80
                && qualifier.is_none_or(|q| !q.is_empty())
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(expected.to_string())
    }
}

/// The ARN of the execution called `name` of a state machine: the state
/// machine's ARN with `execution` for `stateMachine`, without the version or
/// alias qualifier a state machine ARN may carry (Step Functions' execution
/// ARNs never carry it), and the name.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    let unqualified: Vec<&str> = state_machine_arn.split(':').take(7).collect();
    format!(
        "{}:{name}",
        unqualified
            .join(":")
            .replacen(":stateMachine:", ":execution:", 1)
    )
}

fn is_partition(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_region(s: &str) -> bool {
    is_partition(s) && s.bytes().any(|b| b.is_ascii_digit())
}

/// The Personalize `Name` rule, fully anchored.
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && s.len() <= 63
}

fn is_version_id(s: &str) -> bool {
    s == LATEST
        || (!s.is_empty()
            && s.len() <= 63
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_execution_arn_never_carries_the_state_machines_qualifier() {
        let arn = "arn:aws:states:us-east-1:111122223333:stateMachine:deployer";
        let execution = "arn:aws:states:us-east-1:111122223333:execution:deployer:movie-recs-1";
        assert_eq!(execution_arn(arn, "movie-recs-1"), execution);
        for qualifier in ["3", "live"] {
            let qualified = format!("{arn}:{qualifier}");
            assert!(check_state_machine_arn(&qualified).is_ok());
            assert_eq!(execution_arn(&qualified, "movie-recs-1"), execution);
        }
    }

    #[test]
    fn a_campaign_name_keeps_the_name_rule() {
        assert_eq!(
            CampaignName::parse("movie-recs_2").unwrap().as_str(),
            "movie-recs_2"
        );
        for bad in ["", "-recs", "movie recs", &"a".repeat(64)] {
            assert!(CampaignName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
