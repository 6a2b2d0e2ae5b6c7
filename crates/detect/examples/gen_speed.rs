//! Times trace generation alone versus generation plus detection (developer aid).
use memwatchdog_detect::{Config, Detector, synth};
use std::time::Instant;

fn main() {
    let s = &synth::healthy_corpus(synth::hours(6.0))[0];
    let t = Instant::now();
    let n = s.samples(1).count();
    let gen_time = t.elapsed();
    let mut d = Detector::new(Config::default()).unwrap();
    let t = Instant::now();
    let mut e = 0;
    for x in s.samples(1) {
        e += d.push(&x).len();
    }
    let all = t.elapsed();
    println!("{n} samples: generate {gen_time:?}, generate+detect {all:?} ({e} events)");
}
