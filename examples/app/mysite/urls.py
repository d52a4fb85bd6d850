from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import path


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f'<link rel="stylesheet" href="{static("css/site.css")}">Hello from Django')


urlpatterns = [path("", home)]
