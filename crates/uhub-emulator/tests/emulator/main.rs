//! The emulator: its UCloud gateway in-process, its binary's admin API and command line,
//! and the official UCloud Python SDK as an independent client.

mod admin;
mod api;
mod cli;
mod python_sdk;
