//! `orderwatch install-desktop`: puts Orderwatch in the application menu, so it launches with a
//! double click and no terminal. Writes the desktop entry and the icons into the user's XDG data
//! directory (`$XDG_DATA_HOME`, else `~/.local/share`), and launch-at-login's autostart entry.

use std::path::{Path, PathBuf};

/// The `.desktop` template; `@EXEC@` and `@TRYEXEC@` become the installed binary.
pub const DESKTOP_TEMPLATE: &str = include_str!("../../assets/orderwatch.desktop.in");
pub const ICON_SVG: &[u8] = include_bytes!("../../assets/icons/orderwatch.svg");
/// The app icon at each size, as PNG.
pub const ICON_PNGS: [(u32, &[u8]); 4] = [
    (32, include_bytes!("../../assets/icons/orderwatch-32.png")),
    (64, include_bytes!("../../assets/icons/orderwatch-64.png")),
    (128, include_bytes!("../../assets/icons/orderwatch-128.png")),
    (256, include_bytes!("../../assets/icons/orderwatch-256.png")),
];
/// The desktop entry's file name; also the application id the window announces.
pub const DESKTOP_FILE: &str = "orderwatch.desktop";

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("no data directory: set XDG_DATA_HOME or HOME")]
    NoDataDir,
    #[error("cannot find this program's own path: {0}")]
    NoExecutable(String),
    #[error("cannot write {path}: {detail}")]
    Write { path: String, detail: String },
}

/// The user's XDG data directory.
pub fn data_dir() -> Result<PathBuf, InstallError> {
    directories::BaseDirs::new()
        .map(|dirs| dirs.data_dir().to_path_buf())
        .ok_or(InstallError::NoDataDir)
}

/// The desktop entry for `exec` (the binary's absolute path), with `args` after it.
pub fn desktop_entry(exec: &Path, args: &[&str]) -> String {
    let mut command = quote_exec(&exec.to_string_lossy());
    for arg in args {
        command.push(' ');
        command.push_str(&quote_exec(arg));
    }
    DESKTOP_TEMPLATE
        .replace("@EXEC@", &command)
        .replace("@TRYEXEC@", &escape_value(&exec.to_string_lossy()))
}

/// Quotes one Exec argument as the Desktop Entry spec asks: in double quotes when it has
/// reserved characters, with `"`, `` ` ``, `$` and `\` escaped; `%` doubled.
fn quote_exec(arg: &str) -> String {
    let reserved = |c: char| " \t\n\"'\\><~|&;$*?#()`".contains(c);
    let arg = arg.replace('%', "%%");
    let quoted = if arg.chars().any(reserved) || arg.is_empty() {
        let mut out = String::from("\"");
        for c in arg.chars() {
            if matches!(c, '"' | '`' | '$' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    } else {
        arg
    };
    escape_value(&quoted)
}

/// A value in a desktop entry: backslashes and line breaks escaped.
fn escape_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\t', "\\t")
        .replace('\r', "\\r")
}

/// What was written, for the user.
#[derive(Debug, Default)]
pub struct Installed {
    pub files: Vec<PathBuf>,
}

/// Writes the entry and icons under `data_dir`, pointing at `exec`.
pub fn install(data_dir: &Path, exec: &Path) -> Result<Installed, InstallError> {
    let mut installed = Installed::default();
    let entry = data_dir.join("applications").join(DESKTOP_FILE);
    write(&entry, desktop_entry(exec, &[]).as_bytes(), &mut installed)?;
    let hicolor = data_dir.join("icons").join("hicolor");
    for (size, png) in ICON_PNGS {
        let path = hicolor
            .join(format!("{size}x{size}"))
            .join("apps")
            .join("orderwatch.png");
        write(&path, png, &mut installed)?;
    }
    write(
        &hicolor.join("scalable").join("apps").join("orderwatch.svg"),
        ICON_SVG,
        &mut installed,
    )?;
    Ok(installed)
}

/// Removes what `install` wrote (missing files are fine).
pub fn uninstall(data_dir: &Path) -> Result<Installed, InstallError> {
    let mut removed = Installed::default();
    let hicolor = data_dir.join("icons").join("hicolor");
    let mut paths = vec![
        data_dir.join("applications").join(DESKTOP_FILE),
        hicolor.join("scalable").join("apps").join("orderwatch.svg"),
    ];
    paths.extend(ICON_PNGS.iter().map(|(size, _)| {
        hicolor
            .join(format!("{size}x{size}"))
            .join("apps")
            .join("orderwatch.png")
    }));
    for path in paths {
        match std::fs::remove_file(&path) {
            Ok(()) => removed.files.push(path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(InstallError::Write {
                    path: path.display().to_string(),
                    detail: err.to_string(),
                });
            }
        }
    }
    Ok(removed)
}

/// This program's path, for the entry's `Exec`.
pub fn current_exe() -> Result<PathBuf, InstallError> {
    std::env::current_exe()
        .and_then(|path| path.canonicalize())
        .map_err(|err| InstallError::NoExecutable(err.to_string()))
}

fn write(path: &Path, bytes: &[u8], installed: &mut Installed) -> Result<(), InstallError> {
    let failed = |err: std::io::Error| InstallError::Write {
        path: path.display().to_string(),
        detail: err.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    std::fs::write(path, bytes).map_err(failed)?;
    installed.files.push(path.to_path_buf());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_paths_are_quoted_as_the_spec_asks() {
        assert_eq!(quote_exec("/usr/bin/orderwatch"), "/usr/bin/orderwatch");
        assert_eq!(quote_exec("/home/a b/orderwatch"), "\"/home/a b/orderwatch\"");
        assert_eq!(quote_exec("/opt/$x/ow"), "\"/opt/\\\\$x/ow\"");
        assert_eq!(quote_exec("100%"), "100%%");
        let entry = desktop_entry(Path::new("/home/a b/.cargo/bin/orderwatch"), &["--minimised"]);
        assert!(
            entry.contains("Exec=\"/home/a b/.cargo/bin/orderwatch\" --minimised\n"),
            "{entry}"
        );
        assert!(
            entry.contains("TryExec=/home/a b/.cargo/bin/orderwatch\n"),
            "{entry}"
        );
        assert!(!entry.contains('@'));
    }

    #[test]
    fn the_icons_are_the_sizes_they_claim() {
        for (size, png) in ICON_PNGS {
            let icon = eframe::icon_data::from_png_bytes(png).unwrap();
            assert_eq!((icon.width, icon.height), (size, size));
        }
    }
}
