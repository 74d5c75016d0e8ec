//! The synthetic log: which object, version and time every row of
//! `widget_log` has, so the program knows what each read must return
//! without asking the database.
//!
//! Rows are numbered `g = 1, 2, ...` in the order they are logged (the
//! `id` the table gives them). The table grows in stages, one per size:
//! the stage from `from` to `to` rows adds the objects
//! `from / R + 1 ..= to / R` (`R` rows per object), interleaved: first
//! every new object's insert, then every one's first update, and so on, so
//! the rows of one object are spread over the whole stage. The last version
//! of every tenth object is a delete. Row `g` is logged at
//! 2026-01-01T00:00:00Z + `g` seconds + [`micros`]`(g)` microseconds.

use awesome_audit_log::chrono::{DateTime, Utc};

/// 2026-01-01T00:00:00Z, the time the log starts at (Unix seconds).
pub(crate) const EPOCH: i64 = 1_767_225_600;

/// The microseconds of row `g`'s time: spread over the second, so that
/// no two rows' times look alike.
pub(crate) fn micros(g: i64) -> i64 {
    (g * 7919) % 1_000_000
}

/// When row `g` is logged.
pub(crate) fn created_at(g: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(EPOCH + g, (micros(g) * 1000) as u32)
        .expect("row times fit in a DateTime")
}

/// Whether the last version of `object` is its delete.
pub(crate) fn deleted_at_end(object: i64) -> bool {
    object % 10 == 0
}

/// One step of growth: rows `from + 1 ..= to`, the objects they add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stage {
    /// Rows before the stage.
    pub(crate) from: i64,
    /// Rows after it.
    pub(crate) to: i64,
    /// Rows of every object.
    pub(crate) rows_per_object: i64,
}

impl Stage {
    /// Objects the stage adds.
    pub(crate) fn objects(&self) -> i64 {
        (self.to - self.from) / self.rows_per_object
    }

    /// The first object it adds.
    pub(crate) fn first_object(&self) -> i64 {
        self.from / self.rows_per_object + 1
    }

    /// The row of version `version` (1-based) of `object` (one of the stage's).
    pub(crate) fn row(&self, object: i64, version: i64) -> i64 {
        self.from + (version - 1) * self.objects() + (object - self.first_object()) + 1
    }
}

/// The log's stages: one per size.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) rows_per_object: i64,
    pub(crate) stages: Vec<Stage>,
}

impl Layout {
    /// The layout of a table grown through `sizes`: each a multiple of
    /// `rows_per_object`, increasing.
    pub(crate) fn new(sizes: &[u64], rows_per_object: u64) -> Result<Self, String> {
        if rows_per_object < 2 {
            return Err("--rows-per-object must be at least 2".into());
        }
        if sizes.is_empty() {
            return Err("--sizes names no size".into());
        }
        let mut stages = Vec::new();
        let mut from = 0;
        for &size in sizes {
            if size <= from || size % rows_per_object != 0 {
                return Err(format!(
                    "--sizes must increase, each a multiple of --rows-per-object \
                     ({rows_per_object}): {size} after {from}"
                ));
            }
            let to = i64::try_from(size).map_err(|_| format!("size {size} is too large"))?;
            stages.push(Stage {
                from: from as i64,
                to,
                rows_per_object: rows_per_object as i64,
            });
            from = size;
        }
        Ok(Self {
            rows_per_object: rows_per_object as i64,
            stages,
        })
    }

    /// Objects in a table of `size` rows.
    pub(crate) fn objects(&self, size: i64) -> i64 {
        size / self.rows_per_object
    }

    fn stage_of(&self, object: i64) -> Stage {
        *self
            .stages
            .iter()
            .find(|stage| object < stage.first_object() + stage.objects())
            .expect("an object of the layout")
    }

    /// The row of version `version` (1-based) of `object`.
    pub(crate) fn row(&self, object: i64, version: i64) -> i64 {
        self.stage_of(object).row(object, version)
    }

    /// The version `as_of` is asked for: the middle of the object's history.
    pub(crate) fn middle_version(&self) -> i64 {
        self.rows_per_object / 2
    }

    /// The `i`-th object read in a table of `size` rows: spread over all
    /// of them, old and new, by the same rule at every size.
    pub(crate) fn pick(&self, i: usize, size: i64) -> i64 {
        let objects = self.objects(size) as u64;
        1 + ((i as u64 + 1).wrapping_mul(2_654_435_761) % objects) as i64
    }

    /// What `as_of_all` just after row `g` of a table of `size` rows must
    /// find: objects with a row by then, and how many of those were deleted.
    pub(crate) fn as_of_all_counts(&self, size: i64, g: i64) -> (usize, usize) {
        let last = self.rows_per_object;
        let mut objects = 0;
        let mut deleted = 0;
        for object in 1..=self.objects(size) {
            if self.row(object, 1) <= g {
                objects += 1;
                if deleted_at_end(object) && self.row(object, last) <= g {
                    deleted += 1;
                }
            }
        }
        (objects, deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of every stage belongs to exactly one (object, version),
    /// and the versions of an object come in order.
    #[test]
    fn rows_are_a_bijection() {
        let layout = Layout::new(&[300, 1200], 10).unwrap();
        let mut seen = vec![false; 1201];
        for object in 1..=layout.objects(1200) {
            let mut previous = 0;
            for version in 1..=10 {
                let g = layout.row(object, version);
                assert!(g > previous, "object {object} version {version}");
                assert!(!seen[g as usize], "row {g} twice");
                seen[g as usize] = true;
                previous = g;
            }
        }
        assert!(seen[1..].iter().all(|&s| s));
        // The first stage's objects end within it.
        assert!(layout.row(30, 10) <= 300);
        assert_eq!(layout.row(31, 1), 301);
    }

    #[test]
    fn sizes_must_fit_the_rows_per_object() {
        assert!(Layout::new(&[1000, 3000], 100).is_ok());
        assert!(Layout::new(&[1000, 1000], 100).is_err());
        assert!(Layout::new(&[1050], 100).is_err());
        assert!(Layout::new(&[], 100).is_err());
    }

    #[test]
    fn times_increase() {
        assert!(created_at(1) < created_at(2));
        assert_eq!(created_at(1).timestamp_subsec_micros(), 7919);
        assert!((1..2000).all(|g| created_at(g) < created_at(g + 1)));
    }

    #[test]
    fn as_of_all_counts_follow_the_layout() {
        let layout = Layout::new(&[1000, 3000], 100).unwrap();
        // Halfway through the first stage: its 10 objects, none deleted yet.
        assert_eq!(layout.as_of_all_counts(1000, 500), (10, 0));
        // At the end of it: the last versions are logged, one in ten a delete.
        assert_eq!(layout.as_of_all_counts(1000, 1000), (10, 1));
        assert_eq!(layout.as_of_all_counts(3000, 1500), (30, 1));
    }
}
