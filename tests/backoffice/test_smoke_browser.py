def test_chromium_renders_the_admin_login(page):
    page.goto("/admin/login/")
    assert page.locator("input[name=username]").is_visible()
