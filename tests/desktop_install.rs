//! `orderwatch install-desktop` as a user runs it, in a throw-away `XDG_DATA_HOME`: the entry and
//! icons land where menus look, the entry passes `desktop-file-validate`, and `--remove` undoes it.

mod common;

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_orderwatch");

fn require_tools() -> bool {
    std::env::var_os("ORDERWATCH_REQUIRE_DESKTOP").is_some()
}

#[test]
fn install_desktop_writes_a_valid_entry_and_the_icons() {
    let data = std::env::temp_dir().join(format!("orderwatch-xdg-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let output = Command::new(BIN)
        .arg("install-desktop")
        .env("XDG_DATA_HOME", &data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("application menu"), "{stdout}");

    let entry_path = data.join("applications/orderwatch.desktop");
    let entry = std::fs::read_to_string(&entry_path).expect("the desktop entry");
    let exe = Path::new(BIN).canonicalize().unwrap();
    assert!(entry.contains(&format!("Exec={}\n", exe.display())), "{entry}");
    assert!(
        entry.contains("Icon=orderwatch\n") && entry.contains("Terminal=false\n"),
        "{entry}"
    );
    for size in [32, 64, 128, 256] {
        let icon = data.join(format!("icons/hicolor/{size}x{size}/apps/orderwatch.png"));
        let image = eframe::icon_data::from_png_bytes(&std::fs::read(&icon).unwrap()).unwrap();
        assert_eq!((image.width, image.height), (size, size));
    }
    assert!(data.join("icons/hicolor/scalable/apps/orderwatch.svg").exists());

    match Command::new("desktop-file-validate").arg(&entry_path).output() {
        Ok(validated) => {
            let report = String::from_utf8_lossy(&validated.stdout).into_owned()
                + &String::from_utf8_lossy(&validated.stderr);
            assert!(validated.status.success() && report.trim().is_empty(), "{report}");
        }
        Err(err) if require_tools() => panic!("desktop-file-validate is required here: {err}"),
        Err(err) => common::skipped(&format!(
            "the validation: desktop-file-validate is not installed ({err})"
        )),
    }

    let output = Command::new(BIN)
        .args(["install-desktop", "--remove"])
        .env("XDG_DATA_HOME", &data)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(!entry_path.exists());
    assert!(!data.join("icons/hicolor/256x256/apps/orderwatch.png").exists());
    let _ = std::fs::remove_dir_all(&data);
}
