//! What a query's needles let a block's filters prove: the whole words a literal holds (looked
//! up in token filters), its runs of word bytes (looked up in gram filters), and the runs of
//! text wanted in any case of its ASCII letters (`|~ "(?i)exception"`), which only filters of
//! folded grams can look up.

use crate::grams;
use crate::tokens::required_tokens;

/// A query's needles, ready to test blocks with.
#[derive(Debug, Default, Clone)]
pub struct Needles {
    pub tokens: Vec<u64>,
    pub runs: Vec<Vec<u8>>,
    pub any_case: Vec<Vec<u8>>,
}

impl Needles {
    /// From the case-sensitive substrings every wanted line holds, and ASCII text every wanted
    /// line holds in some case.
    pub fn new(exact: &[String], any_case: &[String]) -> Needles {
        Needles {
            tokens: exact.iter().flat_map(|s| required_tokens(s)).collect(),
            runs: exact.iter().flat_map(|s| grams::runs(s.as_bytes())).collect(),
            any_case: any_case.iter().flat_map(|s| grams::runs(s.as_bytes())).collect(),
        }
    }

    /// Whether nothing can be proven absent.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.runs.is_empty() && self.any_case.is_empty()
    }
}
