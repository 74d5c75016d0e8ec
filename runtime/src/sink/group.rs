//! Grouping rows by the table they go to, the one way every transport and
//! the transaction batch their inserts: tables in order of first
//! appearance, rows in their order, so an object's rows are never reordered.

/// `items` grouped by key: keys in order of first appearance, each key's
/// items in their order.
///
/// A handful of tables per batch is the rule, so a linear search beats a
/// hash map here.
pub(crate) fn group_by_key<K: PartialEq, T>(
    items: impl IntoIterator<Item = (K, T)>,
) -> Vec<(K, Vec<T>)> {
    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
    for (key, item) in items {
        match groups.iter_mut().find(|(existing, _)| *existing == key) {
            Some((_, group)) => group.push(item),
            None => groups.push((key, vec![item])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_first_appearance_and_row_order() {
        let groups = group_by_key([("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)]);
        assert_eq!(
            groups,
            vec![("b", vec![1, 3]), ("a", vec![2, 5]), ("c", vec![4])]
        );
        assert!(group_by_key(Vec::<(u8, u8)>::new()).is_empty());
    }
}
