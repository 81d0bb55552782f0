//! Build script: the widget's stylesheet, minified into OUT_DIR (src/view.rs includes it).

#[path = "build/css_min.rs"]
mod css_min;

fn main() {
    println!("cargo:rerun-if-changed=src/widget.css");
    println!("cargo:rerun-if-changed=build/css_min.rs");
    let css = std::fs::read_to_string("src/widget.css").expect("src/widget.css is readable");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("widget.min.css"), css_min::minify(&css)).expect("OUT_DIR is writable");
}
