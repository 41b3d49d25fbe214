//! The Drain algorithm (He et al., ICWS 2017) with the parameters of Loki's pattern ingester: a
//! fixed-depth prefix tree whose first level is the token count and whose next levels are the
//! leading tokens (a token with a digit, or one past the fan-out, goes down the `<_>` branch);
//! its leaves hold clusters, and a line joins the most similar cluster of its leaf when at least
//! `sim_threshold` of their tokens are equal, the differing tokens of the cluster becoming `<_>`.
//!
//! Unlike Loki's ingester, which forgets its least recently used clusters beyond the cap, a full
//! tree here opens no cluster: the lines that would need one are counted as skipped, so every
//! reported count is the exact number of lines of its pattern.

use std::collections::HashMap;

use super::tokenize::{PARAM, Tokens};

/// Drain's parameters (Loki's defaults in [`Default`]).
#[derive(Debug, Clone)]
pub struct DrainConfig {
    /// Depth of the tree including the token-count level and the leaf (`LogClusterDepth`).
    pub depth: usize,
    /// Share of equal tokens for a line to join a cluster.
    pub sim_threshold: f64,
    /// Fan-out of a tree node.
    pub max_children: usize,
    /// Clusters per tree.
    pub max_clusters: usize,
    /// Lines with fewer tokens have no pattern.
    pub min_tokens: usize,
    /// Lines with more tokens have no pattern.
    pub max_tokens: usize,
}

impl Default for DrainConfig {
    fn default() -> Self {
        DrainConfig {
            depth: 30,
            sim_threshold: 0.3,
            max_children: 15,
            max_clusters: 300,
            min_tokens: 4,
            max_tokens: 80,
        }
    }
}

/// What happened to a trained line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trained {
    /// It joined (or opened) the cluster with this index.
    Cluster(usize),
    TooFewTokens,
    TooManyTokens,
    /// It matched no cluster and the tree holds `max_clusters` already.
    Full,
}

#[derive(Debug, Default)]
struct Node {
    children: Vec<(Box<str>, u32)>,
    clusters: Vec<u32>,
}

impl Node {
    fn child(&self, key: &str) -> Option<u32> {
        self.children.iter().find(|(k, _)| &**k == key).map(|(_, n)| *n)
    }
}

/// One pattern being learnt.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub tokens: Vec<Box<str>>,
    /// The spaces of the line that opened it (punctuation tokens).
    pub spaces: Vec<i32>,
    /// Lines it took.
    pub size: u64,
}

/// One Drain tree.
#[derive(Debug)]
pub struct Drain {
    cfg: DrainConfig,
    max_node_depth: usize,
    /// Tree nodes; the first level is `by_count`.
    nodes: Vec<Node>,
    by_count: HashMap<usize, u32>,
    clusters: Vec<Cluster>,
}

impl Drain {
    pub fn new(cfg: DrainConfig) -> Drain {
        let max_node_depth = cfg.depth.max(3) - 2;
        Drain { cfg, max_node_depth, nodes: Vec::new(), by_count: HashMap::new(), clusters: Vec::new() }
    }

    pub fn clusters(&self) -> &[Cluster] {
        &self.clusters
    }

    /// Trains on one tokenized line; `may_open` false: it may only join an existing cluster.
    pub fn train(&mut self, line: &Tokens<'_>, may_open: bool) -> Trained {
        let tokens = &line.tokens;
        if tokens.len() < self.cfg.min_tokens {
            return Trained::TooFewTokens;
        }
        if tokens.len() > self.cfg.max_tokens {
            return Trained::TooManyTokens;
        }
        if let Some(id) = self.search(tokens) {
            let c = &mut self.clusters[id];
            for (ct, t) in c.tokens.iter_mut().zip(tokens) {
                if **ct != **t && &**ct != PARAM {
                    *ct = PARAM.into();
                }
            }
            c.size += 1;
            return Trained::Cluster(id);
        }
        if !may_open || self.clusters.len() >= self.cfg.max_clusters {
            return Trained::Full;
        }
        let id = self.clusters.len();
        self.clusters.push(Cluster {
            tokens: tokens.iter().map(|t| Box::<str>::from(&**t)).collect(),
            spaces: line.spaces.clone(),
            size: 1,
        });
        self.add_to_tree(id);
        Trained::Cluster(id)
    }

    fn new_node(&mut self) -> u32 {
        self.nodes.push(Node::default());
        (self.nodes.len() - 1) as u32
    }

    /// The leaf reached by the leading tokens, then the best cluster of it.
    fn search(&self, tokens: &[std::borrow::Cow<'_, str>]) -> Option<usize> {
        let n = tokens.len();
        let mut cur = *self.by_count.get(&n)?;
        for (depth, t) in (1..).zip(tokens) {
            if depth >= self.max_node_depth || depth == n {
                break;
            }
            let node = &self.nodes[cur as usize];
            cur = node.child(t).or_else(|| node.child(PARAM))?;
        }
        let mut best: Option<(usize, f64, usize)> = None;
        for &id in &self.nodes[cur as usize].clusters {
            let c = &self.clusters[id as usize];
            let (mut same, mut params) = (0usize, 0usize);
            for (ct, t) in c.tokens.iter().zip(tokens) {
                if &**ct == PARAM {
                    params += 1;
                } else if **ct == **t {
                    same += 1;
                }
            }
            let sim = same as f64 / c.tokens.len() as f64;
            if best.is_none_or(|(_, s, p)| sim > s || (sim == s && params > p)) {
                best = Some((id as usize, sim, params));
            }
        }
        best.filter(|(_, s, _)| *s >= self.cfg.sim_threshold).map(|(id, _, _)| id)
    }

    fn add_to_tree(&mut self, id: usize) {
        let n = self.clusters[id].tokens.len();
        let mut cur = match self.by_count.get(&n) {
            Some(&c) => c,
            None => {
                let c = self.new_node();
                self.by_count.insert(n, c);
                c
            }
        };
        for (depth, i) in (1..).zip(0..n) {
            if depth >= self.max_node_depth || depth >= n {
                self.nodes[cur as usize].clusters.push(id as u32);
                return;
            }
            let token = self.clusters[id].tokens[i].clone();
            let node = &self.nodes[cur as usize];
            cur = match node.child(&token) {
                Some(next) => next,
                None => {
                    let param = node.child(PARAM);
                    let count = node.children.len();
                    let max = self.cfg.max_children;
                    let has_digit = token.chars().any(char::is_numeric);
                    let key: Option<Box<str>> = match (has_digit, param) {
                        (true, Some(_)) => None,
                        (true, None) => Some(PARAM.into()),
                        (false, Some(_)) if count < max => Some(token),
                        (false, Some(_)) => None,
                        (false, None) if count + 1 < max => Some(token),
                        (false, None) => Some(PARAM.into()),
                    };
                    match key {
                        None => param.expect("the <_> branch exists"),
                        Some(k) => {
                            let c = self.new_node();
                            self.nodes[cur as usize].children.push((k, c));
                            c
                        }
                    }
                }
            };
        }
        // A line of one token: its leaf is the token-count node itself.
        self.nodes[cur as usize].clusters.push(id as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patterns::tokenize::{Format, join, tokenize};

    fn patterns(lines: &[&str]) -> Vec<String> {
        let mut d = Drain::new(DrainConfig::default());
        for l in lines {
            if let Ok(t) = tokenize(Format::Unknown, l) {
                d.train(&t, true);
            }
        }
        let mut out: Vec<String> = d.clusters().iter().map(|c| join(Format::Unknown, &c.tokens, &c.spaces)).collect();
        out.sort();
        out
    }

    #[test]
    fn similar_lines_share_a_pattern() {
        let p = patterns(&[
            "server request took 123 ms to complete",
            "server request took 456 ms to complete",
            "server request took 789 ms to complete",
        ]);
        assert_eq!(p, ["server request took <_> ms to complete"]);
        let p = patterns(&["test 1 test test", "test 2 test test", "test 3 test test", "test 4 test test"]);
        assert_eq!(p, ["test <_> test test"]);
    }

    #[test]
    fn different_lines_stay_apart_and_short_lines_are_skipped() {
        let p = patterns(&["user alice logged in from home", "disk sda is full again today", "hi there"]);
        assert_eq!(p, ["disk sda is full again today", "user alice logged in from home"]);
    }

    #[test]
    fn a_full_tree_opens_no_cluster() {
        let mut d = Drain::new(DrainConfig { max_clusters: 2, ..Default::default() });
        let lines = ["alpha beta gamma delta", "one two three four five", "red green blue cyan magenta yellow"];
        let got: Vec<Trained> = lines.iter().map(|l| d.train(&tokenize(Format::Unknown, l).unwrap(), true)).collect();
        assert_eq!(got, [Trained::Cluster(0), Trained::Cluster(1), Trained::Full]);
        // Lines of known patterns still join them.
        assert_eq!(
            d.train(&tokenize(Format::Unknown, "alpha beta gamma epsilon").unwrap(), false),
            Trained::Cluster(0)
        );
        assert_eq!(d.clusters()[0].size, 2);
    }
}
