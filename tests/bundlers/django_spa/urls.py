from django.http import Http404, JsonResponse
from django.urls import path


def items(request):  # type: ignore[no-untyped-def]
    return JsonResponse([1, 2, 3], safe=False)


def item(request, item_id: int):  # type: ignore[no-untyped-def]
    if item_id not in (1, 2, 3):
        raise Http404("no such item")
    return JsonResponse({"id": item_id})


urlpatterns = [path("api/items", items), path("api/items/<int:item_id>", item)]
