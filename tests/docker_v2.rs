//! tests/docker.rs's cases again, with Docker Compose v2 (`docker compose`, the CLI plugin
//! most users have): the sandbox's commands find the plugin through `DOCKER_CONFIG`
//! (`$GIT_ATLAS_TEST_COMPOSE_V2`, a Docker config directory whose `cli-plugins/` holds it;
//! `.ci/docker.sh` makes one), so that v1 stays what tests/docker.rs runs.

mod support;

/// The Compose these cases run (the cases are in `tests/docker/cases.rs`).
const COMPOSE: support::docker::Compose = support::docker::Compose::V2;

include!("docker/cases.rs");
