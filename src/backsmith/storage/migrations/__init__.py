"""Migrations from contract changes: snapshot, diff, render, apply, roll back, drift."""
