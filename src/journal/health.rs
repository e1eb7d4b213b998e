//! The journal's health: what the banner, Settings and headless say of it.

/// How the journal is doing, for the banner, Settings and headless.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    /// The newest batch number written to disk.
    pub committed: u64,
    /// Why the last write failed, while writes are failing.
    pub error: Option<String>,
    /// Events applied but not journaled (the queue was full) since the journal opened.
    pub dropped: u64,
    /// The database's size on disk, WAL included.
    pub bytes: u64,
    /// Days in the journal.
    pub days: u64,
}

impl Health {
    /// Whether something is wrong enough to show.
    pub fn is_failing(&self) -> bool {
        self.error.is_some() || self.dropped > 0
    }

    /// One line for the banner and headless.
    pub fn problem(&self) -> Option<String> {
        match (&self.error, self.dropped) {
            (None, 0) => None,
            (Some(error), 0) => Some(format!("The journal cannot write: {error}. Retrying.")),
            (error, dropped) => Some(format!(
                "The journal could not keep {dropped} event{} (the disk is too slow or full){}; \
                 they are in the window but not on disk.",
                if dropped == 1 { "" } else { "s" },
                error
                    .as_ref()
                    .map(|error| format!(": {error}"))
                    .unwrap_or_default()
            )),
        }
    }
}
