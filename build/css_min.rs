//! The widget's stylesheet minified at build time (build.rs; tested in tests/css_min.rs): it is
//! stored in the wasm, so its comments and indentation were bytes every page downloaded.
//!
//! A deliberately small minifier for `src/widget.css`: comments go; white space outside strings
//! becomes one space, dropped next to `{ } ; , >` and after `:` (never before it: `.a :hover`
//! is not `.a:hover`), so `calc(a * b)`, `1px solid` and descendant selectors keep theirs; a `;`
//! before `}` goes; strings are copied untouched.

/// `css` minified.
pub fn minify(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut chars = css.chars().peekable();
    let mut space = false;
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
                space = true;
            }
            c if c.is_whitespace() => space = true,
            '"' | '\'' => {
                flush(&mut out, &mut space, c);
                out.push(c);
                let mut escaped = false;
                for s in chars.by_ref() {
                    out.push(s);
                    if escaped {
                        escaped = false;
                    } else if s == '\\' {
                        escaped = true;
                    } else if s == c {
                        break;
                    }
                }
            }
            c => {
                flush(&mut out, &mut space, c);
                out.push(c);
            }
        }
    }
    if out.ends_with(';') {
        out.pop();
    }
    out
}

/// Writes the pending space before `next`, unless a punctuation mark on either side makes it
/// meaningless; drops a `;` right before `}`.
fn flush(out: &mut String, space: &mut bool, next: char) {
    const TIGHT: &[char] = &['{', '}', ';', ',', '>'];
    if next == '}' && out.ends_with(';') {
        out.pop();
    }
    if std::mem::take(space)
        && !out.is_empty()
        && !out.ends_with(TIGHT)
        && !out.ends_with(':')
        && !TIGHT.contains(&next)
    {
        out.push(' ');
    }
}
