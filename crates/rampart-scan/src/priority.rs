//! Priorities 0–100 with the reason for each point.
