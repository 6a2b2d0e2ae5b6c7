//! `copytree SRC DEST`: the init container's entry point. Copies the contents of SRC into the
//! existing directory DEST (see the library's docs), prints one line saying what it copied, and
//! exits 0; 1 when the copy fails (the message names the path), 2 on wrong arguments.

use std::path::Path;
use std::process::ExitCode;

use memwatchdog_copytree::copy_tree;
use memwatchdog_units::HumanBytes;

const USAGE: &str = "usage: copytree SRC DEST\n\
    Copies the contents of the directory SRC (files, directories, symbolic links, with their\n\
    permission bits) into the existing directory DEST, replacing what is there.";

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--help" || flag == "-h" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        [flag] if flag == "--version" || flag == "-V" => {
            println!("copytree {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        [src, dest] => {
            let (src, dest) = (Path::new(src), Path::new(dest));
            match copy_tree(src, dest) {
                Ok(c) => {
                    println!(
                        "copytree: copied {} files ({}), {} directories and {} symbolic links from {} to {}",
                        c.files,
                        HumanBytes(c.bytes),
                        c.dirs,
                        c.symlinks,
                        src.display(),
                        dest.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("copytree: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!(
                "copytree: expected two arguments, SRC and DEST, got {}\n{USAGE}",
                args.len()
            );
            ExitCode::from(2)
        }
    }
}
