"""People and the Track API: identify, track, batch, devices, merge, delete, suppress."""
