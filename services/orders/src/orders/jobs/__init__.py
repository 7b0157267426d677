"""Jobs: bulk status moves over a view and CSV exports, kept in the query side so they outlive
the process. ``service`` starts, reads and cancels them; ``runner`` runs them in the background."""
