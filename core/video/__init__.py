"""Stage 1: video files in, decoded RGB frames out (plus the browser's playable copy and uploads)."""
