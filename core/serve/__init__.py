"""The ensemble over HTTP: a FastAPI app (`app`), the engine behind it (`engine`: checkpoints and
the features file loaded once; `batcher`: concurrent stored-video requests gathered into one
pass), what guards it on a network (`auth`, `uploads`, `errors`), what it reports (`metrics`,
`answers`), and the same app on Ray Serve (`ray_serve`)."""
