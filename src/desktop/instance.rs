//! One window at a time. A second Orderwatch started while one runs (launch at login, then a
//! double click) would open a second socket on the same token and write the same settings file;
//! instead it says that one is running and ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// Held for as long as this process is the window; the OS lets go if it dies, however it dies.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

#[derive(Debug)]
pub enum Instance {
    First(InstanceLock),
    /// Another Orderwatch window holds the lock.
    Running,
}

/// The lock file beside the settings.
pub const LOCK_FILE: &str = "orderwatch.lock";

/// Claims being the one window for the settings in `dir`.
pub fn claim(dir: &Path) -> std::io::Result<Instance> {
    std::fs::create_dir_all(dir)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))?;
    match file.try_lock() {
        Ok(()) => Ok(Instance::First(InstanceLock { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(Instance::Running),
        Err(TryLockError::Error(err)) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_claim_finds_the_first_and_the_lock_goes_with_it() {
        let dir = std::env::temp_dir().join(format!("orderwatch-instance-{}", std::process::id()));
        let first = claim(&dir).unwrap();
        assert!(matches!(first, Instance::First(_)));
        assert!(matches!(claim(&dir).unwrap(), Instance::Running));
        drop(first);
        assert!(matches!(claim(&dir).unwrap(), Instance::First(_)));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
