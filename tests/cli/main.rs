//! The `tagwatch` command line as users run it (the real binary), the committed CRD,
//! `make demo`, and the layering of the code.

mod crd;
mod demo;
mod krew;
mod layering;
mod tags;
mod tags_vs_emulator;
