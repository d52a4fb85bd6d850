from django.contrib import admin
from django.http import HttpResponse
from django.urls import path, re_path
from django.views.generic import TemplateView


def fallback(request, rest=""):
    return HttpResponse(f"urlconf:{request.path}", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("page/", TemplateView.as_view(template_name="page.html")),
    re_path(r"^static/dynamic/(?P<rest>.*)$", fallback),
    path("hello/", fallback),
]
