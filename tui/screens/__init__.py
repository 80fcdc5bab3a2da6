"""Screens of the runsift app: runs list, one record, a diff, help, project picker."""
