-- wrk script: POSTs one signed GetImageTag request (the form body comes from the
-- UHUB_BODY environment variable, built and signed by bench/emulator/run.sh).
wrk.method = "POST"
wrk.path = "/"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = assert(os.getenv("UHUB_BODY"), "UHUB_BODY is not set")
