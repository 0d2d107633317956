//! The install artefacts: the Helm chart (rendered, linted, applied, installed and run
//! with its ServiceAccount's rights), the files generated from it, the container
//! image, and a release pushed to a local registry.

mod cluster;
mod files;
mod gitops;
mod image;
mod install;
mod metadata;
mod monitoring;
mod operator;
mod release;
mod render;
