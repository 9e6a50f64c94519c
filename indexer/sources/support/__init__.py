"""What the source readers share and are not readers themselves: attachments through Tika
(`attachments`), members handed back to the readers (`nested`), zip and 7z containers
(`containers`) and export folders or zips (`members`), one MIME message to items (`mime`,
`mime_parts`, `html_body`, `readpst_output`), TNEF (`tnef`), Outlook code pages
(`mapi_codepage`), chat message items (`chat`) and Telegram's JSON walk (`telegram_json`).

A module is a reader when it is in `indexer.sources.SOURCES`; everything here is used by readers
and imports no reader (only `nested` asks the registry, at call time, which reader takes a member).
"""
