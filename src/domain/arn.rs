//! Personalize and Step Functions ARNs: parsing the solution version ARN of a
//! request and deriving the campaign ARN from it.

use std::fmt;

/// The version part of a solution version ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRef {
    /// An explicit solution version id (`.../solution/<name>/<id>`).
    Id(String),
    /// `.../solution/<name>/$LATEST`: the latest solution version of the solution.
    Latest,
}

/// A parsed `arn:<partition>:personalize:<region>:<account>:solution/<name>/<version>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolutionVersionRef {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub solution_name: String,
    pub version: VersionRef,
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
    pub fn campaign_arn(&self, name: &str) -> String {
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
        let version = match &self.version {
            VersionRef::Id(id) => id.as_str(),
            VersionRef::Latest => LATEST,
        };
        write!(f, "{}/{}", self.solution_arn(), version)
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

fn is_partition(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_region(s: &str) -> bool {
    is_partition(s) && s.bytes().any(|b| b.is_ascii_digit())
}

/// The Personalize `Name` rule, fully anchored.
pub(crate) fn is_name(s: &str) -> bool {
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
