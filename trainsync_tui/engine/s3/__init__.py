"""S3: talking to the bucket. The clients and how their errors read (client.py), what an
error's code means (error_codes.py: the only place codes are spelt out), the deadline and
cancel on every request, and how long an endpoint has said nothing while a request waits
(request_guard.py: the app's "waiting for S3" and the CLI's notice read it), a client made
only when S3 is first asked something (client_on_use.py), what a server does with
conditional writes (conditions.py), the listing of an actor's prefix and the MD5s it yields
(listing.py), one listing for a fleet of actors in key ranges (fleet_listing.py), part
sizes (partsize.py), the actor's lease (lease.py), and which prefixes spell the actors
(actor_prefixes.py). Nothing here touches a local file: a module imports only the engine's
top-level modules, actors/ and this package.
"""
