//! The `tagwatch` command line as users run it (the real binary), the committed CRD,
//! `make demo`, the layering of the code and the forge workflows.

mod crd;
mod demo;
mod krew;
mod layering;
mod tags;
mod tags_vs_emulator;
mod workflows;

use testkit::output_text as text;
