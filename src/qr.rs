//! PURE: encode the QR payload and draw it as one SVG path (dark modules only).
//!
//! The payload is `lightning:` + the UPPER-case invoice
//! ([`CheckedInvoice::qr_payload`](crate::invoice::CheckedInvoice::qr_payload)): the
//! encoder segments it optimally, so the invoice is in alphanumeric mode. Error correction
//! is level M (15 %), falling back to L (7 %) only when M does not fit.
//!
//! The drawing is geometry only: the view paints the path dark on a light square of
//! [`Qr::view_box_size`] modules, whatever the page theme, so the quiet zone stays light.

use core::fmt;
use core::fmt::Write as _;

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
    // Version 40-L holds 2,956 data codewords; character-count fields at versions 27-40 are
    // 16 bits (byte mode) and 13 bits (alphanumeric).
    const CAPACITY_BITS: usize = 2956 * 8;
    let bytes = payload.as_bytes();
    let is_alnum =
        |b: &u8| b.is_ascii_digit() || b.is_ascii_uppercase() || b" $%*+-./:".contains(b);
    let tail = bytes.iter().rev().take_while(|b| is_alnum(b)).count();
    let head = bytes.len() - tail;
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
        let (code, ec_level) =
            match qrcode::QrCode::with_error_correction_level(payload, LibEcLevel::M) {
                Ok(code) => (code, EcLevel::M),
                Err(LibQrError::DataTooLong) => (
                    qrcode::QrCode::with_error_correction_level(payload, LibEcLevel::L)?,
                    EcLevel::L,
                ),
                Err(e) => return Err(e.into()),
            };
        let version = match code.version() {
            qrcode::Version::Normal(v) => u8::try_from(v).map_err(|_| QrError::Unencodable)?,
            qrcode::Version::Micro(_) => return Err(QrError::Unencodable),
        };
        let width = code.width();
        let modules: Vec<bool> = code
            .into_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
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
        let mut d = String::new();
        let width = self.width();
        for y in 0..width {
            let mut x = 0;
            while x < width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < width && self.is_dark(x, y) {
                    x += 1;
                }
                let run = x - start;
                // Writing into a String cannot fail.
                let _ = write!(
                    d,
                    "M{} {}h{}v1h-{}z",
                    u64::from(start) + u64::from(quiet_zone),
                    u64::from(y) + u64::from(quiet_zone),
                    run,
                    run
                );
            }
        }
        d
    }
}
