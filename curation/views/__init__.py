"""Views of the curation app, one module per area. Each is thin: permission, form, one service
or selector, render (``storyapp.htmx.render_page`` for pages with an htmx fragment)."""
