//! The build-time CSS minifier (build/css_min.rs): the widget's stylesheet loses only comments
//! and white space that means nothing.

#[path = "../build/css_min.rs"]
mod css_min;

use css_min::minify;

/// `css` without comments and with every run of white space outside strings as one space: what
/// the minified text must equal once the spaces that carry no meaning are put back.
fn without_comments(css: &str) -> String {
    let mut s = String::new();
    let mut rest = css;
    while let Some((before, after)) = rest.split_once("/*") {
        s.push_str(before);
        s.push(' ');
        rest = after.split_once("*/").map_or("", |(_, a)| a);
    }
    s.push_str(rest);
    s
}

#[test]
fn the_stylesheet_keeps_every_non_space_character_in_order() {
    let css = include_str!("../src/widget.css");
    let min = minify(css);
    let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    // Only white space, comments and `;` before `}` may go.
    let want = strip(&without_comments(css)).replace(";}", "}");
    assert_eq!(strip(&min), want);
    assert!(
        min.len() < css.len() * 3 / 4,
        "{} of {} bytes",
        min.len(),
        css.len()
    );
    assert!(!min.contains("/*") && !min.contains('\n'));
}

#[test]
fn meaningful_spaces_stay() {
    assert_eq!(
        minify("a :hover , b > c { width : calc(1px + 2px) ; border: 1px  solid red; }"),
        // A space before `:` stays (in a selector it means something).
        "a :hover,b>c{width :calc(1px + 2px);border:1px solid red}"
    );
    assert_eq!(
        minify(".x::before { content: \"a  b /* c */\"; }"),
        ".x::before{content:\"a  b /* c */\"}"
    );
    assert_eq!(
        minify("@media (pointer: coarse), (max-width: 480px) { .a { order: 0; } }"),
        "@media (pointer:coarse),(max-width:480px){.a{order:0}}"
    );
    assert_eq!(
        minify("/* only */ p { margin: 0 } /* end */"),
        "p{margin:0}"
    );
}
