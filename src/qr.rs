//! PURE: encode the QR payload and draw it as one SVG path (dark modules only).
//!
//! The payload is `lightning:` + the UPPER-case invoice
//! ([`CheckedInvoice::qr_payload`](crate::invoice::CheckedInvoice::qr_payload)): the
//! encoder segments it optimally, so the invoice is in alphanumeric mode. Error correction
//! is level M (15 %), falling back to L (7 %) only when M does not fit.
//!
//! The `qrcode` crate segments, error-corrects and places the data; the mask is chosen here
//! ([`best_mask`]), with the crate's own penalty rules (the same mask, module for module: a test
//! compares both on hundreds of payloads) but without its allocation per scored position
//! (`Box<dyn Fn>` in its finder-pattern penalty), which made the encode slower in wasm than npm
//! `qrcode` in JavaScript.
//!
//! The drawing is geometry only: the view paints the path dark on a light square of
//! [`Qr::view_box_size`] modules, whatever the page theme, so the quiet zone stays light.

use core::fmt;

use qrcode::types::QrError as LibQrError;
use qrcode::EcLevel as LibEcLevel;

/// Light margin around the symbol, in modules: 4, the ISO/IEC 18004 minimum.
pub const QUIET_ZONE: u32 = 4;

/// Error correction level actually used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcLevel {
    /// About 7 % of the symbol may be damaged; used only when M does not fit.
    L,
    /// About 15 % of the symbol may be damaged; the default.
    M,
}

/// Why a payload could not be drawn as a QR code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QrError {
    /// Too long even for version 40 at level L (4,296 alphanumeric characters at most).
    TooLong,
    /// Refused by the encoder for another reason (not expected for a text payload).
    Unencodable,
}

impl QrError {
    /// Stable snake_case code, for the `lightning-checkout:error` event.
    pub fn code(&self) -> &'static str {
        match self {
            QrError::TooLong => "qr_too_long",
            QrError::Unencodable => "qr_unencodable",
        }
    }

    /// One plain English sentence for the payer.
    pub fn message(&self) -> &'static str {
        match self {
            QrError::TooLong => "The invoice is too long to show as a QR code.",
            QrError::Unencodable => "The invoice cannot be shown as a QR code.",
        }
    }
}

impl fmt::Display for QrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl From<LibQrError> for QrError {
    fn from(e: LibQrError) -> Self {
        match e {
            LibQrError::DataTooLong => QrError::TooLong,
            _ => QrError::Unencodable,
        }
    }
}

/// Whether `payload` fits a QR code (version 40, level L), computed from the segment lengths
/// instead of encoding: a byte-mode head and the alphanumeric tail, as the invoice payloads are.
/// This split is never better than qrcode's optimal one, so the answer errs only towards "does
/// not fit", within a few characters of the 4,296-character limit.
pub fn fits(payload: &str) -> bool {
    let bytes = payload.as_bytes();
    let is_alnum =
        |b: &u8| b.is_ascii_digit() || b.is_ascii_uppercase() || b" $%*+-./:".contains(b);
    let tail = bytes.iter().rev().take_while(|b| is_alnum(b)).count();
    fits_split(bytes.len() - tail, tail)
}

/// [`fits`] for `lightning:` + an invoice of `invoice_len` bech32 characters in upper case
/// (all alphanumeric, as is the `:`), without building the payload.
pub fn fits_lightning_uri(invoice_len: usize) -> bool {
    fits_split("lightning".len(), invoice_len + 1)
}

/// A byte-mode head of `head` bytes, then an alphanumeric tail of `tail` characters.
fn fits_split(head: usize, tail: usize) -> bool {
    // Version 40-L holds 2,956 data codewords; character-count fields at versions 27-40 are
    // 16 bits (byte mode) and 13 bits (alphanumeric).
    const CAPACITY_BITS: usize = 2956 * 8;
    let mut bits = 0;
    if head > 0 {
        bits += 4 + 16 + 8 * head;
    }
    if tail > 0 {
        bits += 4 + 13 + 11 * (tail / 2) + 6 * (tail % 2);
    }
    bits <= CAPACITY_BITS
}

/// A QR code symbol: a square of `width × width` modules, without quiet zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Qr {
    width: usize,
    version: u8,
    ec_level: EcLevel,
    /// Row-major, `true` = dark.
    modules: Vec<bool>,
}

impl Qr {
    /// Encodes `payload` in the smallest version at level M, or at level L if M does not fit.
    pub fn encode(payload: &str) -> Result<Qr, QrError> {
        let (bits, ec_level) = match qrcode::bits::encode_auto(payload.as_bytes(), LibEcLevel::M) {
            Ok(bits) => (bits, EcLevel::M),
            Err(LibQrError::DataTooLong) => (
                qrcode::bits::encode_auto(payload.as_bytes(), LibEcLevel::L)?,
                EcLevel::L,
            ),
            Err(e) => return Err(e.into()),
        };
        let lib_level = match ec_level {
            EcLevel::M => LibEcLevel::M,
            EcLevel::L => LibEcLevel::L,
        };
        let version = bits.version();
        let (width, version) = match version {
            qrcode::Version::Normal(v @ 1..=40) => (17 + 4 * v as usize, v as u8),
            _ => return Err(QrError::Unencodable),
        };
        // qrcode::QrCode::with_bits, with the mask chosen by best_mask.
        let (data, ec) =
            qrcode::ec::construct_codewords(&bits.into_bytes(), version_of(version), lib_level)?;
        let mut canvas = qrcode::canvas::Canvas::new(version_of(version), lib_level);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&data, &ec);
        let modules = best_mask(&canvas, width);
        if modules.len() != width * width {
            return Err(QrError::Unencodable);
        }
        Ok(Qr {
            width,
            version,
            ec_level,
            modules,
        })
    }

    /// Modules per side, without the quiet zone (21 for version 1, 4 more per version).
    pub fn width(&self) -> u32 {
        u32::try_from(self.width).unwrap_or(u32::MAX)
    }

    /// The QR version, 1 to 40.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The error correction level used.
    pub fn ec_level(&self) -> EcLevel {
        self.ec_level
    }

    /// True when the module at column `x`, row `y` is dark; false outside the symbol.
    pub fn is_dark(&self, x: u32, y: u32) -> bool {
        let (x, y) = (x as usize, y as usize);
        x < self.width && y < self.width && self.modules.get(y * self.width + x) == Some(&true)
    }

    /// Side of the SVG `viewBox` (`0 0 n n`), in modules: the width plus a quiet zone on
    /// each side.
    pub fn view_box_size(&self, quiet_zone: u32) -> u32 {
        self.width().saturating_add(quiet_zone.saturating_mul(2))
    }

    /// The `d` attribute of one SVG path that fills exactly the dark modules, offset by
    /// `quiet_zone` modules. Each horizontal run of dark modules in a row is one rectangle,
    /// `M{x} {y}h{n}v1h-{n}z`, in module units.
    pub fn svg_path_data(&self, quiet_zone: u32) -> String {
        // About 3.5 characters per module for invoice-sized codes: one allocation.
        let mut d = String::with_capacity(self.width * self.width * 4);
        let qz = u64::from(quiet_zone);
        for (y, row) in self.modules.chunks_exact(self.width.max(1)).enumerate() {
            let mut x = 0;
            while x < row.len() {
                if !row[x] {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < row.len() && row[x] {
                    x += 1;
                }
                let run = (x - start) as u64;
                d.push('M');
                push_decimal(&mut d, start as u64 + qz);
                d.push(' ');
                push_decimal(&mut d, y as u64 + qz);
                d.push('h');
                push_decimal(&mut d, run);
                d.push_str("v1h-");
                push_decimal(&mut d, run);
                d.push('z');
            }
        }
        d
    }
}

/// Appends `n` in decimal (no formatting machinery: this runs for every rectangle).
fn push_decimal(s: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        s.push(char::from(b));
    }
}

fn version_of(v: u8) -> qrcode::Version {
    qrcode::Version::Normal(i16::from(v))
}

/// The eight masks of a (normal) QR code, in the order `qrcode` tries them.
const MASKS: [qrcode::canvas::MaskPattern; 8] = {
    use qrcode::canvas::MaskPattern::*;
    [
        Checkerboard,
        HorizontalLines,
        VerticalLines,
        DiagonalLines,
        LargeCheckerboard,
        Fields,
        Diamonds,
        Meadow,
    ]
};

/// `qrcode`'s `Canvas::apply_best_mask`: each mask applied to a copy of `canvas`, the first with
/// the lowest penalty kept, as dark (`true`) and light modules. The penalty is [`penalty`].
fn best_mask(canvas: &qrcode::canvas::Canvas, width: usize) -> Vec<bool> {
    let mut best: Option<(u16, Vec<bool>)> = None;
    for mask in MASKS {
        let mut c = canvas.clone();
        c.apply_mask(mask);
        let modules: Vec<bool> = c
            .into_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        let score = penalty(&modules, width);
        if best.as_ref().is_none_or(|(b, _)| score < *b) {
            best = Some((score, modules));
        }
    }
    best.map(|(_, m)| m).unwrap_or_default()
}

/// `qrcode`'s `compute_total_penalty_scores` for a normal QR code, rule for rule and with its
/// 16-bit wrapping arithmetic, on a row-major grid of `width × width` modules: runs of five or
/// more of one colour (N1), 2×2 blocks of one colour (N2), finder-like patterns without four
/// light modules on one side (N3, less the 360 of the three real finders), and the dark/light
/// balance (N4). Rows and columns are scanned alike: the columns as the rows of a transposed
/// copy.
fn penalty(m: &[bool], w: usize) -> u16 {
    let mut t = vec![false; m.len()];
    for (y, row) in m.chunks_exact(w).enumerate() {
        for (x, &c) in row.iter().enumerate() {
            t[x * w + y] = c;
        }
    }
    let mut score = lines_penalty(m, w).wrapping_add(lines_penalty(&t, w));
    // N2.
    for (row, below) in m.chunks_exact(w).zip(m.chunks_exact(w).skip(1)) {
        for x in 0..w - 1 {
            let c = row[x];
            if c == row[x + 1] && c == below[x] && c == below[x + 1] {
                score = score.wrapping_add(3);
            }
        }
    }
    // N4.
    let dark = m.iter().filter(|&&d| d).count();
    let ratio = dark * 200 / m.len().max(1);
    score.wrapping_add(ratio.abs_diff(100) as u16)
}

/// N1 and N3 along the rows of a `w × w` grid.
fn lines_penalty(m: &[bool], w: usize) -> u16 {
    let mut score = 0u16;
    let mut n3 = 0u16;
    for line in m.chunks_exact(w) {
        let mut run = 0u16;
        let mut last = None;
        for &c in line {
            if last == Some(c) {
                run += 1;
            } else {
                if run >= 5 {
                    score = score.wrapping_add(run - 2);
                }
                run = 1;
                last = Some(c);
            }
        }
        if run >= 5 {
            score = score.wrapping_add(run - 2);
        }
        // Dark, light, dark, dark, dark, light, dark, and no dark module in the four before or
        // in the four after (outside the symbol counts as light).
        for (j, window) in line.windows(7).enumerate() {
            if window != [true, false, true, true, true, false, true] {
                continue;
            }
            let left_dark = line[j.saturating_sub(4)..j].contains(&true);
            let right_dark = line[j + 7..(j + 11).min(w)].contains(&true);
            if !left_dark || !right_dark {
                n3 = n3.wrapping_add(40);
            }
        }
    }
    score.wrapping_add(n3.wrapping_sub(360))
}
