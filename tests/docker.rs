//! Docker Compose per worktree, end to end against a real Docker Engine and Compose v1
//! (`docker-compose`; `tests/docker_v2.rs` runs the same cases with v2, `docker compose`):
//! each worktree's own project, host ports, network and volume; `add --up`,
//! `docker up | down | ps | regenerate`, `exec`, teardown on `remove` and after a worktree goes
//! without git-atlas; the live checks that attribute a port to a container; and what happens
//! with no Docker at all.
//!
//! The Docker tests need the daemon, Compose and the local image `$GIT_ATLAS_TEST_IMAGE` (a
//! static busybox serving `git-atlas-test ok` with `busybox httpd`, built by `.ci/docker.sh`;
//! nothing is pulled). Without them they print `SKIPPED <test>: …` and pass, unless
//! `GIT_ATLAS_REQUIRE_SERVICES=1` (as in CI), where they fail instead.
//!
//! Tests run in parallel threads against one daemon: each uses its own repository name (the
//! Compose project is `<repository>-<worktree>`), its own worktree names (the seed's template
//! names its network and volume after the worktree) and, but for the one that proves the seed's
//! default ports, its own block of host ports from `.atlas.toml`. A `Cleanup` guard removes
//! every container, network and volume of the test's projects by Compose's project label, on
//! success and on failure alike.

mod support;

/// The Compose these cases run (the cases are in `tests/docker/cases.rs`).
const COMPOSE: support::docker::Compose = support::docker::Compose::V1;

include!("docker/cases.rs");
