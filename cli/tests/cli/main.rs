//! The tool run as a user runs it: the built binary against real databases.

fn main() {}
