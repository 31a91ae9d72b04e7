//! A small world to start from, in the default partition, region and
//! account: the solution `movies` with two ACTIVE versions, an older one and
//! the latest. Give [`seed`] to `Server::seed` (or save it as a
//! `--seed-file`).

use serde_json::{Value, json};

/// The solution.
pub const SOLUTION: &str = "arn:aws:personalize:us-east-1:111122223333:solution/movies";
/// Its version `1a2b3c4d`, trained two hours ago.
pub const OLDER_VERSION: &str =
    "arn:aws:personalize:us-east-1:111122223333:solution/movies/1a2b3c4d";
/// Its version `5e6f7a8b`, trained a minute ago: what `$LATEST` resolves to.
pub const LATEST_VERSION: &str =
    "arn:aws:personalize:us-east-1:111122223333:solution/movies/5e6f7a8b";

/// The seed document of this world.
pub fn seed() -> Value {
    json!({
        "solutions": [{"name": "movies"}],
        "solutionVersions": [
            {"solution": "movies", "id": "1a2b3c4d", "ageSeconds": 7200},
            {"solution": "movies", "id": "5e6f7a8b", "ageSeconds": 60}
        ]
    })
}
