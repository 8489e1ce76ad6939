//! Stopping the processes that listen on a worktree's ports.
