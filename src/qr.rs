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
        let modules = best_mask(&canvas, width, ec_level);
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
    /// `quiet_zone` modules, in module units. One subpath per row with dark modules: for each
    /// horizontal run of dark modules, a left edge down and a right edge up, joined along the
    /// row's bottom and top lines: `M{x} {y}v1h{run}v-1h{gap}v1h{run}v-1…`.
    ///
    /// Only the vertical edges enclose area (the horizontal segments, and the implicit close of
    /// each subpath, run along the row's own lines), so under either fill rule the filled cells
    /// are exactly the runs, the same pixels as one rectangle per run, in about two thirds of
    /// the characters.
    pub fn svg_path_data(&self, quiet_zone: u32) -> String {
        // About 2.5 characters per module for invoice-sized codes: one allocation.
        let mut d = String::with_capacity(self.width * self.width * 3);
        let qz = quiet_zone as usize;
        for (y, row) in self.modules.chunks_exact(self.width.max(1)).enumerate() {
            // The end of the previous run in this row; `None` before the first.
            let mut end: Option<usize> = None;
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
                match end {
                    None => {
                        d.push('M');
                        push_decimal(&mut d, start.saturating_add(qz));
                        d.push(' ');
                        push_decimal(&mut d, y.saturating_add(qz));
                    }
                    Some(e) => {
                        d.push('h');
                        push_decimal(&mut d, start - e);
                    }
                }
                d.push_str("v1h");
                push_decimal(&mut d, x - start);
                d.push_str("v-1");
                end = Some(x);
            }
        }
        d
    }
}

/// Appends `n` in decimal (no formatting machinery: this runs for every run of modules).
fn push_decimal(s: &mut String, n: usize) {
    if n >= 10 {
        push_decimal(s, n / 10);
    }
    s.push(char::from(b'0' + (n % 10) as u8));
}

fn version_of(v: u8) -> qrcode::Version {
    qrcode::Version::Normal(i16::from(v))
}

/// The format information (BCH-coded error correction level and mask) of level M and of level
/// L, by mask number: `qrcode`'s `FORMAT_INFOS_QR[(level ^ 1) << 3 | mask]`.
const FORMAT_INFOS: [[u16; 8]; 2] = [
    [
        0x5412, 0x5125, 0x5e7c, 0x5b4b, 0x45f9, 0x40ce, 0x4f97, 0x4aa0,
    ],
    [
        0x77c4, 0x72f3, 0x7daa, 0x789d, 0x662f, 0x6318, 0x6c41, 0x6976,
    ],
];

/// Where the 15 format bits go around the top-left finder, most significant first (x, y).
const FORMAT_MAIN: [(u8, u8); 15] = [
    (0, 8),
    (1, 8),
    (2, 8),
    (3, 8),
    (4, 8),
    (5, 8),
    (7, 8),
    (8, 8),
    (8, 7),
    (8, 5),
    (8, 4),
    (8, 3),
    (8, 2),
    (8, 1),
    (8, 0),
];

/// Whether mask `mask` (0 to 7, ISO/IEC 18004 numbering, as `qrcode`'s `MaskPattern`) inverts
/// the module at column `x`, row `y`.
fn mask_inverts(mask: u8, x: usize, y: usize) -> bool {
    match mask {
        0 => (x + y) % 2 == 0,
        1 => y % 2 == 0,
        2 => x % 3 == 0,
        3 => (x + y) % 3 == 0,
        4 => (y / 2 + x / 3) % 2 == 0,
        5 => (x * y) % 2 + (x * y) % 3 == 0,
        6 => ((x * y) % 2 + (x * y) % 3) % 2 == 0,
        _ => ((x + y) % 2 + (x * y) % 3) % 2 == 0,
    }
}

/// One row or column of a symbol, a bit per module (bit `i` = module `i`, 1 = dark): 192 bits,
/// enough for version 40 (177 modules). The mask scoring works on whole rows and columns at a
/// time with these, instead of module by module.
#[derive(Clone, Copy, Default)]
struct Bits([u64; 3]);

impl Bits {
    /// Bits `0..n` set.
    fn first(n: usize) -> Bits {
        let mut b = Bits::default();
        for (i, word) in b.0.iter_mut().enumerate() {
            let n = n.saturating_sub(64 * i);
            *word = if n >= 64 { u64::MAX } else { (1 << n) - 1 };
        }
        b
    }

    fn get(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }

    fn set(&mut self, i: usize, dark: bool) {
        let word = &mut self.0[i / 64];
        *word = *word & !(1 << (i % 64)) | u64::from(dark) << (i % 64);
    }

    /// Bit `i` of the result is bit `i + k` of `self` (`k` from 1 to 63).
    #[inline(always)]
    fn down(self, k: u32) -> Bits {
        let [a, b, c] = self.0;
        Bits([a >> k | b << (64 - k), b >> k | c << (64 - k), c >> k])
    }

    /// Bit `i` of the result is bit `i - k` of `self`, 0 below `k` (`k` from 1 to 63).
    #[inline(always)]
    fn up(self, k: u32) -> Bits {
        let [a, b, c] = self.0;
        Bits([a << k, b << k | a >> (64 - k), c << k | b >> (64 - k)])
    }

    #[inline(always)]
    fn zip(self, o: Bits, f: impl Fn(u64, u64) -> u64) -> Bits {
        Bits([
            f(self.0[0], o.0[0]),
            f(self.0[1], o.0[1]),
            f(self.0[2], o.0[2]),
        ])
    }

    #[inline(always)]
    fn and(self, o: Bits) -> Bits {
        self.zip(o, |a, b| a & b)
    }

    /// `self` and not `o`.
    #[inline(always)]
    fn and_not(self, o: Bits) -> Bits {
        self.zip(o, |a, b| a & !b)
    }

    #[inline(always)]
    fn or(self, o: Bits) -> Bits {
        self.zip(o, |a, b| a | b)
    }

    /// Bits equal in `self` and `o`, within `valid`.
    #[inline(always)]
    fn same(self, o: Bits, valid: Bits) -> Bits {
        valid.and_not(self.zip(o, |a, b| a ^ b))
    }

    #[inline(always)]
    fn count(self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }
}

/// A mask's pattern along a line of `w` modules, from one period of it: bit `i` is
/// `inverts(i % period)` (`period` at most 12).
fn repeat(period: usize, w: usize, inverts: impl Fn(usize) -> bool) -> Bits {
    let mut one = [false; 12];
    for (i, v) in one.iter_mut().enumerate().take(period) {
        *v = inverts(i);
    }
    let mut b = Bits::default();
    let mut k = 0;
    for i in 0..w {
        b.set(i, one[k]);
        k = if k + 1 == period { 0 } else { k + 1 };
    }
    b
}

/// A symbol as rows and as columns of [`Bits`] (`columns[x]` bit `y` = `rows[y]` bit `x`).
struct Lines {
    rows: Vec<Bits>,
    columns: Vec<Bits>,
}

impl Lines {
    fn new(w: usize) -> Lines {
        Lines {
            rows: vec![Bits::default(); w],
            columns: vec![Bits::default(); w],
        }
    }

    fn set(&mut self, x: usize, y: usize, dark: bool) {
        self.rows[y].set(x, dark);
        self.columns[x].set(y, dark);
    }
}

/// `qrcode`'s `Canvas::apply_best_mask` for a normal QR code, without a canvas per mask: the
/// drawn canvas is read once (dark or light, maskable or not, by rows and by columns), then
/// each of the 8 masks is applied a row and a column at a time, with its format bits, and
/// scored by [`penalty`]; the first with the lowest penalty is kept, as dark (`true`) and
/// light modules.
#[inline(never)] // its own entry in the bench's CPU profile
fn best_mask(canvas: &qrcode::canvas::Canvas, width: usize, level: EcLevel) -> Vec<bool> {
    use qrcode::canvas::Module;
    use qrcode::Color::Dark;
    let w = width;
    // What `Module::mask` does: functional modules (`Masked`) keep their colour, data modules
    // (`Unmasked`, and `Empty` as light) are inverted where the mask says so.
    let (mut dark, mut maskable) = (Lines::new(w), Lines::new(w));
    for y in 0..w {
        for x in 0..w {
            let (d, m) = match canvas.get(x as i16, y as i16) {
                Module::Empty => (false, true),
                Module::Unmasked(c) => (c == Dark, true),
                Module::Masked(c) => (c == Dark, false),
            };
            dark.set(x, y, d);
            maskable.set(x, y, m);
        }
    }
    let formats = &FORMAT_INFOS[usize::from(level == EcLevel::L)];
    let mut symbol = Lines::new(w);
    let masked = |mask: u8, symbol: &mut Lines| {
        // Every mask repeats every 6 columns and every 12 rows.
        let rows: [Bits; 12] = core::array::from_fn(|y| repeat(6, w, |x| mask_inverts(mask, x, y)));
        let columns: [Bits; 6] =
            core::array::from_fn(|x| repeat(12, w, |y| mask_inverts(mask, x, y)));
        for (i, out) in symbol.rows.iter_mut().enumerate() {
            *out = dark.rows[i].zip(maskable.rows[i].and(rows[i % 12]), |d, m| d ^ m);
        }
        for (i, out) in symbol.columns.iter_mut().enumerate() {
            *out = dark.columns[i].zip(maskable.columns[i].and(columns[i % 6]), |d, m| d ^ m);
        }
        // The format bits, as `draw_format_info_patterns` draws them: around the top-left
        // finder, and again beside the other two (`FORMAT_INFO_COORDS_QR_SIDE`: (8, -1) up to
        // (8, -7), then (-8, 8) to (-1, 8)).
        let format = formats[usize::from(mask)];
        for (k, &(x, y)) in FORMAT_MAIN.iter().enumerate() {
            let bit = format >> (14 - k) & 1 == 1;
            symbol.set(usize::from(x), usize::from(y), bit);
            if k < 7 {
                symbol.set(8, w - 1 - k, bit);
            } else {
                symbol.set(w - 15 + k, 8, bit);
            }
        }
    };
    let mut best: Option<(u16, u8)> = None;
    for mask in 0..8 {
        masked(mask, &mut symbol);
        let score = penalty(&symbol, w);
        if best.is_none_or(|(b, _)| score < b) {
            best = Some((score, mask));
        }
    }
    masked(best.map_or(0, |(_, m)| m), &mut symbol);
    let mut modules = Vec::with_capacity(w * w);
    for row in &symbol.rows {
        modules.extend((0..w).map(|x| row.get(x)));
    }
    modules
}

/// `qrcode`'s `compute_total_penalty_scores` for a normal QR code, rule for rule and with its
/// 16-bit wrapping arithmetic: runs of five or more of one colour (N1), 2×2 blocks of one
/// colour (N2), finder-like patterns without four light modules on one side (N3, less the 360
/// of the three real finders, per direction), and the dark/light balance (N4). Computed in 32
/// bits and truncated: the same value modulo 2^16.
#[inline(never)] // its own entry in the bench's CPU profile
fn penalty(symbol: &Lines, w: usize) -> u16 {
    let (all, inner) = (Bits::first(w), Bits::first(w.saturating_sub(1)));
    let mut score = 0u32;
    for &line in symbol.rows.iter().chain(&symbol.columns) {
        score += line_penalty(line, inner);
    }
    // N2: module x and x + 1 of two neighbouring rows, one colour.
    for pair in symbol.rows.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let vertical = a.same(b, all);
        let blocks = vertical.and(vertical.down(1)).and(a.same(a.down(1), inner));
        score += 3 * blocks.count();
    }
    // N4.
    let dark: u32 = symbol.rows.iter().map(|r| r.count()).sum();
    let ratio = dark as usize * 200 / (w * w).max(1);
    (score + ratio.abs_diff(100) as u32).wrapping_sub(2 * 360) as u16
}

/// N1 and N3 (without the finders' 360) of one row or column; `inner` holds its modules but
/// the last.
#[inline(always)]
fn line_penalty(c: Bits, inner: Bits) -> u32 {
    // N1: a run of n >= 5 costs n - 2. `same` marks each module that has the next one's colour
    // (n - 1 of them in a run of n), `four` each that starts four of those in a row (n - 4 in a
    // run of n), and a run's first `four` is counted 2 more.
    let same = c.same(c.down(1), inner);
    let four = same.and(same.down(1)).and(same.down(2)).and(same.down(3));
    let n1 = four.count() + 2 * four.and_not(four.up(1)).count();
    // N3: dark, light, dark, dark, dark, light, dark from module i (beyond the end is light, so
    // the last dark module is inside), and no dark module in the four before (i - 4 to i - 1)
    // or in the four after (i + 7 to i + 10).
    let finder = c
        .and_not(c.down(1))
        .and(c.down(2))
        .and(c.down(3))
        .and(c.down(4))
        .and_not(c.down(5))
        .and(c.down(6));
    let dark_before = c.up(1).or(c.up(2)).or(c.up(3)).or(c.up(4));
    let dark_after = c.down(7).or(c.down(8)).or(c.down(9)).or(c.down(10));
    let lone = finder.and_not(dark_before.and(dark_after));
    n1 + 40 * lone.count()
}
