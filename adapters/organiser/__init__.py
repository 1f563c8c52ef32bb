"""REST adapter for the organisers' case systems (`/organiser/v1/...`): tracking their own messages."""
