//! QR payload and SVG path: alphanumeric mode, quiet zone, exact dark modules, golden file,
//! capacity errors, and (when `zbarimg` is installed) a real scanner reading it back.

mod common;

use std::collections::HashSet;

use lightning_checkout::invoice::decode;
use lightning_checkout::qr::{fits, fits_lightning_uri, EcLevel, Qr, QrError, QUIET_ZONE};

/// BOLT 11 example "1 cup coffee" (2500 uBTC, expiry 60 s), from lightning-invoice's tests.
const SPEC_INVOICE: &str = "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh";

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/qr_spec_invoice.path"
);

fn spec_payload() -> String {
    decode(SPEC_INVOICE).expect("valid").qr_payload()
}

/// Fills our own path data as a renderer does (nonzero rule): the cells (view-box coordinates)
/// that its vertical edges enclose, each exactly once. Only `M`, `h` and `v` with integers are
/// allowed; every edge is one module tall, and each subpath's implicit close is horizontal (so it
/// encloses nothing).
fn cells_of_path(d: &str) -> HashSet<(u32, u32)> {
    use std::collections::BTreeMap;
    // (row, column boundary) -> winding change of the edges there (down +1, up -1).
    let mut edges: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    let (mut x, mut y, mut start_y) = (0i64, 0i64, None::<i64>);
    let mut rest = d;
    while let Some(cmd) = rest.chars().next() {
        rest = &rest[1..];
        let number = |rest: &mut &str| {
            let len = rest
                .char_indices()
                .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
                .map_or(rest.len(), |(i, _)| i);
            let (n, tail) = rest.split_at(len);
            *rest = tail;
            n.parse::<i64>().unwrap_or_else(|_| panic!("number in {d}"))
        };
        match cmd {
            'M' => {
                assert!(
                    start_y.is_none_or(|s| s == y),
                    "closing edge not horizontal"
                );
                x = number(&mut rest);
                assert!(rest.starts_with(' '), "M x y");
                rest = &rest[1..];
                y = number(&mut rest);
                start_y = Some(y);
            }
            'h' => x += number(&mut rest),
            'v' => {
                let dy = number(&mut rest);
                assert!(dy == 1 || dy == -1, "edges are one module tall: v{dy}");
                let row = y.min(y + dy);
                *edges.entry((row, x)).or_default() += dy;
                y += dy;
            }
            c => panic!("unexpected command {c:?} in the path"),
        }
    }
    assert!(
        start_y.is_none_or(|s| s == y),
        "closing edge not horizontal"
    );
    let mut cells = HashSet::new();
    let rows: HashSet<i64> = edges.keys().map(|&(r, _)| r).collect();
    for row in rows {
        let mut winding = 0;
        let mut from = 0;
        for (&(_, bx), &dw) in edges.range((row, i64::MIN)..=(row, i64::MAX)) {
            if winding != 0 {
                assert_eq!(winding, 1, "cells covered twice in row {row}");
                for cx in from..bx {
                    assert!(cells.insert((cx as u32, row as u32)));
                }
            }
            winding += dw;
            from = bx;
        }
        assert_eq!(winding, 0, "row {row} left open");
    }
    cells
}

#[test]
fn spec_invoice_is_alphanumeric_and_small() {
    let payload = spec_payload();
    assert!(payload.starts_with("lightning:LNBC2500U1PVJLUEZ"));
    assert_eq!(payload.len(), 10 + SPEC_INVOICE.len());
    let qr = Qr::encode(&payload).expect("fits");
    // Measured: 281 characters -> version 10 at level M (57×57 modules). The same payload in
    // lower case (byte mode) needs version 12 (65×65), so alphanumeric mode saves two
    // versions; `LIGHTNING:` in upper case would not make it smaller (also version 10).
    assert_eq!(qr.ec_level(), EcLevel::M);
    assert_eq!(qr.version(), 10);
    assert_eq!(qr.width(), 57);
    assert_eq!(qr.view_box_size(QUIET_ZONE), 65);
    let lower = Qr::encode(&format!("lightning:{SPEC_INVOICE}")).expect("fits");
    assert_eq!((lower.version(), lower.ec_level()), (12, EcLevel::M));
    let all_upper = Qr::encode(&payload.to_ascii_uppercase()).expect("fits");
    assert_eq!(all_upper.version(), 10);
}

#[test]
fn path_draws_exactly_the_dark_modules_with_the_quiet_zone() {
    for payload in [
        spec_payload(),
        "LIGHTNING:LNBC1".into(),
        String::new(),
        "x".repeat(1000),
    ] {
        let qr = Qr::encode(&payload).expect("fits");
        for qz in [0, QUIET_ZONE, 7] {
            let cells = cells_of_path(&qr.svg_path_data(qz));
            let size = qr.view_box_size(qz);
            assert_eq!(size, qr.width() + 2 * qz);
            let mut expected = HashSet::new();
            for y in 0..qr.width() {
                for x in 0..qr.width() {
                    if qr.is_dark(x, y) {
                        expected.insert((x + qz, y + qz));
                    }
                }
            }
            assert_eq!(
                cells,
                expected,
                "payload {} bytes, quiet zone {qz}",
                payload.len()
            );
            // Nothing in the quiet zone, nothing outside the view box.
            for &(x, y) in &cells {
                assert!(
                    x >= qz && y >= qz && x < size - qz && y < size - qz,
                    "({x},{y})"
                );
            }
        }
        // The finder pattern's corner is dark, so the offset is really the quiet zone.
        assert!(qr.is_dark(0, 0));
        assert!(qr.svg_path_data(QUIET_ZONE).starts_with("M4 4v1h7v-1h"));
        // Out of range is light, never a panic.
        assert!(!qr.is_dark(qr.width(), 0));
        assert!(!qr.is_dark(0, qr.width()));
        assert!(!qr.is_dark(u32::MAX, u32::MAX));
    }
}

#[test]
fn golden_path_for_the_spec_invoice() {
    let path = Qr::encode(&spec_payload())
        .expect("fits")
        .svg_path_data(QUIET_ZONE);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &path).expect("write golden file");
    }
    let golden = std::fs::read_to_string(GOLDEN)
        .expect("tests/data/qr_spec_invoice.path (UPDATE_GOLDEN=1 to create)");
    assert_eq!(
        path,
        golden.trim_end(),
        "QR drawing changed; UPDATE_GOLDEN=1 after checking it scans"
    );
}

#[test]
fn capacity_limits_error_instead_of_panicking() {
    // 4,296 alphanumeric characters is version 40-L's capacity.
    let max_alnum = "A".repeat(4296);
    let qr = Qr::encode(&max_alnum).expect("exactly fits at L");
    assert_eq!((qr.version(), qr.ec_level()), (40, EcLevel::L));
    assert!(fits(&max_alnum));
    // At M, version 40 holds 3,391 alphanumeric characters.
    let at_m = Qr::encode(&"A".repeat(3391)).expect("fits");
    assert_eq!((at_m.version(), at_m.ec_level()), (40, EcLevel::M));
    // One more does not fit at M: level L, in the smallest version that holds it.
    let falls_back = Qr::encode(&"A".repeat(3392)).expect("fits at L");
    assert_eq!(
        (falls_back.version(), falls_back.ec_level()),
        (36, EcLevel::L)
    );

    for too_long in [
        "A".repeat(4297),
        "a".repeat(2954),
        "A".repeat(100_000),
        format!("lightning:{}", "Q".repeat(4287)),
    ] {
        assert!(!fits(&too_long), "{}", too_long.len());
        assert_eq!(
            Qr::encode(&too_long),
            Err(QrError::TooLong),
            "{}",
            too_long.len()
        );
    }
    assert_eq!(
        QrError::TooLong.message(),
        "The invoice is too long to show as a QR code."
    );
    assert_eq!(QrError::TooLong.code(), "qr_too_long");
    assert_eq!(QrError::TooLong.to_string(), QrError::TooLong.message());
}

#[test]
fn lightning_prefix_budget_is_what_check_invoice_uses() {
    // `lightning:` (byte mode for "lightning", then alphanumeric) + upper-case invoice: find
    // the longest invoice length that still fits, so the README can quote it.
    let longest = (4200..4300)
        .rev()
        .find(|&n| fits(&format!("lightning:{}", "Q".repeat(n))))
        .expect("some length fits");
    assert_eq!(longest, 4278);
    // check_invoice asks fits_lightning_uri (no payload built): the same answer at every length.
    for n in (0..4400).step_by(7).chain(4270..4290) {
        let payload = format!("lightning:{}", "Q".repeat(n));
        assert_eq!(fits_lightning_uri(n), fits(&payload), "{n}");
    }
}

/// Writes the symbol as a binary PGM, `scale` pixels per module, light quiet zone.
fn to_pgm(qr: &Qr, scale: u32) -> Vec<u8> {
    let size = qr.view_box_size(QUIET_ZONE) * scale;
    let mut out = format!("P5 {size} {size} 255\n").into_bytes();
    for py in 0..size {
        for px in 0..size {
            let (x, y) = (px / scale, py / scale);
            let dark =
                x >= QUIET_ZONE && y >= QUIET_ZONE && qr.is_dark(x - QUIET_ZONE, y - QUIET_ZONE);
            out.push(if dark { 0 } else { 255 });
        }
    }
    out
}

#[test]
fn zbarimg_reads_it_back_when_installed() {
    let available = std::process::Command::new("zbarimg")
        .arg("--version")
        .output()
        .is_ok();
    if !available {
        eprintln!("zbarimg not installed: skipped");
        return;
    }
    let long = common::make(&common::Spec {
        route_hints: 2,
        ..common::Spec::default()
    });
    let long_payload = decode(&long).expect("valid").qr_payload();
    for (name, payload) in [("spec", spec_payload()), ("long", long_payload)] {
        let qr = Qr::encode(&payload).expect("fits");
        let file = std::env::temp_dir().join(format!(
            "lightning-checkout-qr-{}-{name}.pgm",
            std::process::id()
        ));
        std::fs::write(&file, to_pgm(&qr, 4)).expect("write");
        let out = std::process::Command::new("zbarimg")
            // QR only: the 1D readers can find phantom barcodes in a QR code's modules.
            .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
            .arg(&file)
            .output()
            .expect("run zbarimg");
        let _ = std::fs::remove_file(&file);
        assert!(
            out.status.success(),
            "zbarimg failed on {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            payload,
            "{name} (v{})",
            qr.version()
        );
    }
}

/// The mask is chosen by src/qr.rs (the qrcode crate's penalty rules without its allocations):
/// module for module the same symbol as `qrcode::QrCode` makes, for payloads of every version
/// range, both modes and both levels.
#[test]
fn same_symbol_as_the_qrcode_crate() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut payloads = vec![spec_payload(), "lightning:".into(), "a".into()];
    // Large symbols are few: the crate's own scoring is slow in debug builds.
    for i in 0..72 {
        let len = match i % 8 {
            0 | 4 => 1 + (next() % 40) as usize,
            1 | 5 | 6 => 40 + (next() % 400) as usize,
            2 | 7 => 400 + (next() % 1200) as usize,
            _ => 1600 + (next() % 2600) as usize,
        };
        let mut p: String = "lightning:".into();
        p.extend((0..len).map(|_| char::from(ALNUM[(next() % ALNUM.len() as u64) as usize])));
        if i % 5 == 0 {
            p = p.to_lowercase(); // byte mode
            p.truncate(2900);
        }
        payloads.push(p);
    }
    let mut compared = 0;
    for p in &payloads {
        let Ok(ours) = Qr::encode(p) else {
            assert!(qrcode::QrCode::with_error_correction_level(p, qrcode::EcLevel::L).is_err());
            continue;
        };
        let level = match ours.ec_level() {
            EcLevel::M => qrcode::EcLevel::M,
            EcLevel::L => qrcode::EcLevel::L,
        };
        let theirs = qrcode::QrCode::with_error_correction_level(p, level).expect("encodes");
        assert_eq!(theirs.width() as u32, ours.width(), "{p}");
        let colors = theirs.to_colors();
        for y in 0..ours.width() {
            for x in 0..ours.width() {
                let dark = colors[(y * ours.width() + x) as usize] == qrcode::Color::Dark;
                assert_eq!(
                    ours.is_dark(x, y),
                    dark,
                    "module {x},{y} of {} chars",
                    p.len()
                );
            }
        }
        compared += 1;
    }
    assert!(compared > 60, "{compared}");
}
