"""Ingest: fetch feeds (conditional GET), parse them into Items, poll them as a pipeline."""
