// Progressive enhancement for Lockstep pages. Every page works without it.
