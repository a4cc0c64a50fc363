"""`make bench`: speed measured on PostgreSQL at realistic volume, against baselines of the same run."""
