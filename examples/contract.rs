//! Writes the contract the Python side reads to standard output:
//! `cargo run --example contract > contract.json` (see src/contract.rs).

fn main() {
    print!("{}", personalize_deployer::contract::render());
}
