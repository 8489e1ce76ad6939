//! Who is listening on which TCP port: the kernel's socket tables mapped to processes.
