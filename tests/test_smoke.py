def test_front_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Microneedling Academy" in response.data


def test_bank_loads(bank_loaded, client, auth):
    auth.login()
    response = client.get("/trainee/")
    assert b"Microneedling Practitioner Certification" in response.data
