//! An entry's structured metadata, shared between the entries that carry the same set.

use std::sync::Arc;

/// Structured metadata: name/value pairs kept in the order they were pushed.
///
/// Shared, because consecutive entries mostly carry the same set (`detected_level=info`): a
/// block's reader decodes each distinct set once and every entry carrying it points to it, so
/// reading an entry allocates nothing for its metadata. An empty set allocates nothing either.
/// Reads go through `Deref` to a slice; [`Metadata::make_mut`] changes one entry's copy.
#[derive(Clone, Default)]
pub struct Metadata(Option<Arc<Vec<(String, String)>>>);

impl Metadata {
    /// The pairs, as the entries carrying them will share them.
    pub fn new(pairs: Vec<(String, String)>) -> Metadata {
        match pairs.is_empty() {
            true => Metadata(None),
            false => Metadata(Some(Arc::new(pairs))),
        }
    }

    /// The pairs of this entry alone, to change: copied first if another entry shares them.
    pub fn make_mut(&mut self) -> &mut Vec<(String, String)> {
        Arc::make_mut(self.0.get_or_insert_with(Default::default))
    }

    /// Bytes of the pairs, counted as Loki counts them (names plus values).
    pub fn bytes(&self) -> usize {
        self.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    pub fn as_slice(&self) -> &[(String, String)] {
        self
    }

    /// Whether both are the same shared set (not merely equal), or both empty.
    #[inline]
    pub fn ptr_eq(&self, other: &Metadata) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl std::ops::Deref for Metadata {
    type Target = [(String, String)];
    #[inline]
    fn deref(&self) -> &[(String, String)] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl From<Vec<(String, String)>> for Metadata {
    fn from(pairs: Vec<(String, String)>) -> Metadata {
        Metadata::new(pairs)
    }
}

impl FromIterator<(String, String)> for Metadata {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Metadata {
        Metadata::new(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Metadata {
    type Item = &'a (String, String);
    type IntoIter = std::slice::Iter<'a, (String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl std::fmt::Debug for Metadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Equal, ordered and hashed by the pairs (an emptied set equals the empty one).
impl PartialEq for Metadata {
    #[inline]
    fn eq(&self, other: &Metadata) -> bool {
        self.ptr_eq(other) || **self == **other
    }
}

impl Eq for Metadata {}

impl std::hash::Hash for Metadata {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl PartialOrd for Metadata {
    fn partial_cmp(&self, other: &Metadata) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Metadata {
    fn cmp(&self, other: &Metadata) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl PartialEq<[(String, String)]> for Metadata {
    fn eq(&self, other: &[(String, String)]) -> bool {
        **self == *other
    }
}

impl PartialEq<&[(String, String)]> for Metadata {
    fn eq(&self, other: &&[(String, String)]) -> bool {
        **self == **other
    }
}

impl PartialEq<Vec<(String, String)>> for Metadata {
    fn eq(&self, other: &Vec<(String, String)>) -> bool {
        **self == **other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn shared_sets_change_apart() {
        let a = Metadata::new(pairs(&[("detected_level", "info")]));
        let mut b = a.clone();
        assert!(a.ptr_eq(&b));
        b.make_mut().push(("k".into(), "v".into()));
        assert!(!a.ptr_eq(&b));
        assert_eq!(*a, pairs(&[("detected_level", "info")])[..]);
        assert_eq!(*b, pairs(&[("detected_level", "info"), ("k", "v")])[..]);
    }

    #[test]
    fn an_empty_set_equals_every_other_empty_set() {
        let mut grown = Metadata::default();
        grown.make_mut().push(("k".into(), "v".into()));
        grown.make_mut().clear();
        assert_eq!(Metadata::default(), Metadata::new(vec![]));
        assert!(Metadata::default().is_empty());
        // An emptied set is still allocated, but equal to the empty one.
        assert!(grown.is_empty());
        assert_eq!(grown, Metadata::default());
    }
}
